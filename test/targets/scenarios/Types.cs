// The scenario's own types: nested, generic (type and method), a struct to box, an exception type.
// Parked methods are NoInlining so each appears as its own stack frame.
using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Scenarios;

public static class Outer
{
    public sealed class Leaf { public int Id; public Leaf(int id) { Id = id; } }

    public sealed class Inner<T>
    {
        public T Value;
        public Inner(T value) { Value = value; }

        /** Parks the calling thread inside a generic method of a generic type. */
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Park<U>(T first, U second, string role, object[] chain)
        {
            Program.Record(role, chain);
            Thread.Sleep(Timeout.Infinite);
            GC.KeepAlive(first); GC.KeepAlive(second);
        }
    }
}

public sealed class Pair<TKey, TValue>
{
    public TKey Key; public TValue Value;
    public Pair(TKey key, TValue value) { Key = key; Value = value; }
}

/** A generic type deriving from a generic instantiation: its MethodTable holds two dictionaries (NumDicts 2). */
public class GenericBase<T> { public T? BaseValue; }
public sealed class GenericDerived<U> : GenericBase<U[]> { public U? Value; }

/** Generic types nested in a generic type: the nested type's instantiation lists the outer arguments first. */
public static class Outer2<A>
{
    public sealed class Inner2<B> { public A? First; public B? Second; }
}

public struct Point { public int X, Y; public Point(int x, int y) { X = x; Y = y; } }

public sealed class ScenarioFailure : Exception
{
    public ScenarioFailure(string message) : base(message) { }
}
