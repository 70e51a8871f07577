// Test subjects, never run: code whose metadata and IL cover what the reader must handle — nested
// and generic types, generic methods, every kind of exception clause C# emits (catch, filter,
// finally, nested try), switch, 64-bit and floating constants, long and non-ASCII strings,
// pointers, function pointers, varargs call sites (a sentinel in a MemberRef signature), volatile
// fields (modreq), pinned locals, multi-dimensional arrays, P/Invoke (ImplMap), explicit layout
// (ClassLayout/FieldLayout), static data (FieldRVA), properties and events.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Clrscope.MetadataOracle.Samples;

public class Outer<T>
{
    public class Inner<U>
    {
        public Dictionary<T, List<U>>? Map;
        public static V Pick<V>(V a, T b, U c) => a;
    }

    public struct Pair { public T First; public T Second; }

    public event EventHandler? Changed;
    public int Count { get; set; }
    public T this[int index] => default!;
    protected void Raise() => Changed?.Invoke(this, EventArgs.Empty);
}

[StructLayout(LayoutKind.Explicit, Size = 16, Pack = 4)]
public struct Explicit
{
    [FieldOffset(0)] public int A;
    [FieldOffset(4)] public long B;
    [FieldOffset(4)] public double C;
}

public static unsafe class Code
{
    static volatile int s_volatile;
    static readonly int[] s_table = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    const long BigConstant = 0x1234_5678_9abc_def0;

    [DllImport("libc", EntryPoint = "getpid")] static extern int GetPid();

    public static int Exceptions(int x)
    {
        int r = 0;
        try
        {
            try { r = 10 / x; }
            catch (DivideByZeroException) when (x == 0) { r = -1; }
            catch (ArithmeticException e) { r = e.HResult; }
            finally { r++; }
        }
        catch (Exception) { r = -2; throw; }
        finally { s_volatile = r; }
        return r;
    }

    public static string Switch(int k) => k switch
    {
        0 => "zero",
        1 => "one",
        2 => "two",
        3 => "three",
        4 => "a string long enough to be cut by SOS dumpil which stops at seventy-nine characters ...",
        5 => "non-ASCII: héllo wörld ✓ \u0001",
        _ => k < -5 ? "negative" : "other",
    };

    public static double Constants(long a, float f)
    {
        long big = BigConstant + a;
        double d = 3.141592653589793 * f;
        sbyte s = -7;
        for (int i = 0; i < 300; i++) d += i * s;   // backward branch (loop), short negative offset
        return big + d - 1.5e300 + float.MaxValue;
    }

    public static int Pointers(int* p, ref int r, int[,] grid, int[][] jagged)
    {
        fixed (int* q = &grid[0, 0]) { *p = *q + r + jagged[0][0]; }
        delegate*<int, int> fn = &Twice;
        delegate* unmanaged[Cdecl]<int, void> native = null;
        if (native != null) native(1);
        return fn(*p) + GetPid() + s_table[3];
    }

    static int Twice(int x) => 2 * x;

    public static int VarArgs(__arglist) => new ArgIterator(__arglist).GetRemainingCount();
    public static int CallVarArgs() => VarArgs(__arglist(1, "two", 3.0));

    public static T Generic<T>(T[] items, Func<T, bool> keep) where T : IComparable<T>
    {
        foreach (var it in items) if (keep(it)) return it;
        return default!;
    }

    public static int UseGenerics()
    {
        var o = new Outer<string>.Inner<int>();
        o.Map = new Dictionary<string, List<int>> { ["a"] = new List<int> { 1 } };
        return Generic(new[] { 3, 1, 2 }, v => v > 1) + Outer<string>.Inner<int>.Pick(1, "b", 2) + o.Map.Count;
    }
}
