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

/** One field of each primitive kind SOS formats its own way (dumpobj: %f, hex chars, Yes/No), and statics. */
public sealed class FieldKinds
{
    public double Ratio = 3.25;
    public float Half = 0.5f;
    public char Letter = 'B';
    public bool Yes = true, No;
    public byte Small = 200;
    public sbyte Negative = -5;
    public short Short = -300;
    public ushort UShort = 60000;
    public long Long = -123456789012;
    public ulong ULong = 18446744073709551615;
    public IntPtr Native = (IntPtr)0x1234;
    public Coord Where = new Coord { Row = 3, Column = 4 };
    public string Text = "field-kinds-text";
    public object? Nothing;
    /** A System.RuntimeType (dumpobj prints its Type Name and Type MT), char and byte arrays (their Content line). */
    public Type KindsType = typeof(FieldKinds);
    public char[] Chars = { 'h', 'i', '\n' };
    public byte[] Bytes = { 1, 65, 200 };
    public static int StaticCount = 42;
    public static string StaticText = "static-text";
    public static Coord StaticWhere = new Coord { Row = 5, Column = 6 };
    public static double StaticRatio = -1.5;
}

/** A struct only FieldKinds uses (Point's counts stay exact). */
public struct Coord { public int Row, Column; }

/** A derived exception with a field of its own (dumpobj lists it after System.Exception's). */
public sealed class CodedFailure : Exception
{
    public int Code;
    public CodedFailure(string message, int code, Exception inner) : base(message, inner) { Code = code; }
}
