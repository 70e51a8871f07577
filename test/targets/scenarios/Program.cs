// clrscope test target "scenarios": parks threads in known managed call chains (Monitor.Wait,
// Thread.Sleep, a contended lock, a blocking P/Invoke, a blocked thread-pool work item, a generic
// method of a generic type, a DynamicMethod, a catch block), allocates known types in known counts,
// writes a truth file (argv[0]), prints READY and waits (forever, or HELLO_MAX_SECONDS) to be dumped.
// Every fact in the truth file comes from the process itself (reflection, gettid, /proc), and every
// name from SosNames (reflection formatted with the DAC's documented rules), never from clrscope.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;

namespace Scenarios;

static unsafe class Native
{
    [DllImport("libc.so.6")] public static extern int gettid();
    [DllImport("libc.so.6")] public static extern int pipe(int* fds);
    [DllImport("libc.so.6")] public static extern nint read(int fd, byte* buffer, nint count);
    /** SetLastError: the runtime calls it through an IL stub (a frame "ILStubClass.IL_STUB_PInvoke(...)"). */
    [DllImport("libc.so.6", EntryPoint = "read", SetLastError = true)] public static extern nint readSettingLastError(int fd, byte* buffer, nint count);
}

/** The methods threads park in: one distinct method per scenario. */
public static class Parking
{
    public static readonly object MonitorGate = new();
    public static readonly object ContendedLock = new();
    public static readonly ManualResetEventSlim NeverSet = new(false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WaitOnMonitor(object gate)
    {
        lock (gate) { Program.Record("monitor-wait", Program.Chain(nameof(WaitOnMonitor), nameof(Program.MonitorThread))); Monitor.Wait(gate); }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SleepWithArgs(ref int ticks, string[] labels, int[,] grid, Outer.Leaf leaf, Pair<int, string> pair)
    {
        Program.Record("sleep", Program.Chain(nameof(SleepWithArgs), nameof(Program.SleepThread)));
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(labels); GC.KeepAlive(grid); GC.KeepAlive(leaf); GC.KeepAlive(pair); ticks++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void HoldLockAndSleep(object lockObj)
    {
        lock (lockObj) { Program.Record("lock-holder", Program.Chain(nameof(HoldLockAndSleep), nameof(Program.LockHolderThread))); Thread.Sleep(Timeout.Infinite); }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void EnterContendedLock(object lockObj)
    {
        Program.Record("lock-blocked", Program.Chain(nameof(EnterContendedLock), nameof(Program.LockBlockedThread)));
        lock (lockObj) { Console.Error.WriteLine("the contended lock was released"); }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static unsafe void ReadPipe(int fd)
    {
        Program.Record("pinvoke", Program.Chain(nameof(ReadPipe), nameof(Program.PInvokeThread)));
        byte b;
        Native.read(fd, &b, 1);   // blocks: nobody writes the pipe
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static unsafe void ReadPipeThroughStub(int fd)
    {
        Program.Record("pinvoke-stub", Program.Chain(nameof(ReadPipeThroughStub), nameof(Program.PInvokeStubThread)));
        byte b;
        Native.readSettingLastError(fd, &b, 1);   // blocks: nobody writes the pipe
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WaitSlim(ManualResetEventSlim ev)
    {
        Program.Record("threadpool", Program.Chain(nameof(WaitSlim), nameof(Program.PoolWorkItem)));
        ev.Wait();
    }

    /** Called from the DynamicMethod's IL. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SleepFromDynamic(int milliseconds)
    {
        Program.Record("dynamic", new object[] { Program.Method(nameof(SleepFromDynamic)), Program.Dynamic!, Program.Method(nameof(Program.DynamicThread)) });
        Thread.Sleep(milliseconds);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void AfterDynamic() => Console.Error.WriteLine("the dynamic method's sleep ended");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ParkInCatch()
    {
        try { throw new ScenarioFailure("parked-in-catch"); }
        catch (ScenarioFailure)
        {
            Program.Record("exception-in-catch", Program.Chain(nameof(ParkInCatch), nameof(Program.InCatchThread)));
            Thread.Sleep(Timeout.Infinite);
        }
    }

    /** Parks in the catch block of an exception thrown inside another catch block: two exceptions being handled. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ParkInNestedCatch()
    {
        try { throw new ScenarioFailure("outer-exception"); }
        catch (ScenarioFailure)
        {
            try { throw new InvalidOperationException("nested-exception"); }
            catch (InvalidOperationException)
            {
                Program.Record("exception-nested", Program.Chain(nameof(ParkInNestedCatch), nameof(Program.NestedCatchThread)));
                Thread.Sleep(Timeout.Infinite);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowCatchThenSleep()
    {
        try { throw new FormatException("thrown-before-sleep"); }
        catch (FormatException) { }
        Program.Record("exception-after-catch", Program.Chain(nameof(ThrowCatchThenSleep), nameof(Program.AfterCatchThread)));
        Thread.Sleep(Timeout.Infinite);
    }
}

public static class Program
{
    sealed record Frame(string Name, bool App);
    sealed record ParkedThread(string Role, Thread Thread, int OsTid, List<Frame> Frames, string? LastThrownType);

    /** Roles whose thread handles an exception inside another exception's catch block. */
    static readonly string[] NestedExceptionRoles = { "exception-nested" };

    static readonly List<ParkedThread> Parked = new();
    static readonly CountdownEvent Started = new(13);
    public static DynamicMethod? Dynamic;

    public static MethodBase Method(string name) =>
        (MethodBase?)typeof(Parking).GetMethod(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        ?? typeof(Program).GetMethod(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;

    public static object[] Chain(params string[] names) => names.Select(n => (object)Method(n)).ToArray();

    static bool SameMethod(MethodBase? frame, object expected) => expected switch
    {
        DynamicMethod dm => frame == null || frame.Name == dm.Name,
        MethodBase m => frame != null && frame.Module == m.Module && frame.MetadataToken == m.MetadataToken,
        _ => false,
    };

    static string FrameName(object m) => m switch
    {
        DynamicMethod dm => SosNames.DynamicMethodName(dm.Name, dm.GetParameters().Select(p => p.ParameterType).ToArray()),
        MethodBase mb => SosNames.MethodName(mb, canonical: true),
        _ => throw new ArgumentException("not a method"),
    };

    static string? lastThrownType;

    /**
     * Called on the parked thread just before it blocks. `chain`: the app's frames, innermost
     * first (closed generic MethodInfos, or the DynamicMethod). The expected frame list is the chain
     * followed by the callers StackTrace sees beyond it; the chain is checked against StackTrace
     * (which reports typical generic definitions, hence the explicit closed methods).
     */
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Record(string role, object[] chain)
    {
        var st = new StackTrace(1, false).GetFrames().Select(f => f.GetMethod()).ToList();
        int at = 0;
        foreach (var expected in chain)
        {
            if (expected is DynamicMethod)
            {
                if (at < st.Count && SameMethod(st[at], expected)) at++;   // StackTrace may leave LCG frames out
                else if (at < st.Count && st[at] != null && st[at]!.Name == nameof(DynamicThread)) throw new InvalidOperationException($"{role}: no frame for the DynamicMethod (tail call?)");
                continue;
            }
            while (at < st.Count && !SameMethod(st[at], expected)) at++;
            if (at == st.Count) throw new InvalidOperationException($"{role}: {FrameName(expected)} is not on the stack (inlined?)");
            at++;
        }
        var frames = chain.Select(m => new Frame(FrameName(m), true)).ToList();
        // Callers beyond the app's chain; generic ones are left out (StackTrace gives their typical
        // definition, not the instantiation that runs), as are frames without a method.
        foreach (var m in st.Skip(at))
        {
            if (m == null || m.ContainsGenericParameters || (m.DeclaringType?.ContainsGenericParameters ?? false)) continue;
            frames.Add(new Frame(SosNames.MethodName(m, canonical: true), m.Module == typeof(Program).Module));
        }
        // The runtime keeps the exception in flight while its catch block runs; once the catch has
        // completed it drops the thread's last-thrown handle (.NET 10), so "exception-after-catch"
        // expects none: it checks that no stale exception is reported.
        string? thrown = role switch
        {
            "exception-in-catch" => SosNames.TypeName(typeof(ScenarioFailure)),
            "exception-nested" => SosNames.TypeName(typeof(InvalidOperationException)),
            _ => null,
        };
        lock (Parked) Parked.Add(new ParkedThread(role, Thread.CurrentThread, Native.gettid(), frames, thrown));
        if (role != "main") Started.Signal();
    }

    // Thread entry points (NoInlining so each is a frame of its own).
    [MethodImpl(MethodImplOptions.NoInlining)] public static void MonitorThread() => Parking.WaitOnMonitor(Parking.MonitorGate);
    [MethodImpl(MethodImplOptions.NoInlining)] public static void SleepThread() { int ticks = 0; Parking.SleepWithArgs(ref ticks, Roots.Labels, Roots.Grid, Roots.Leaves[0], Roots.PairsIntString[0]); }
    [MethodImpl(MethodImplOptions.NoInlining)] public static void LockHolderThread() => Parking.HoldLockAndSleep(Parking.ContendedLock);
    [MethodImpl(MethodImplOptions.NoInlining)] public static void LockBlockedThread() => Parking.EnterContendedLock(Parking.ContendedLock);
    [MethodImpl(MethodImplOptions.NoInlining)] public static void PInvokeThread() => Parking.ReadPipe(PipeReadFd);
    [MethodImpl(MethodImplOptions.NoInlining)] public static void PInvokeStubThread() => Parking.ReadPipeThroughStub(PipeReadFd);
    [MethodImpl(MethodImplOptions.NoInlining)] public static void PoolWorkItem(object? state) => Parking.WaitSlim(Parking.NeverSet);
    [MethodImpl(MethodImplOptions.NoInlining)] public static void InCatchThread() => Parking.ParkInCatch();
    [MethodImpl(MethodImplOptions.NoInlining)] public static void NestedCatchThread() => Parking.ParkInNestedCatch();
    [MethodImpl(MethodImplOptions.NoInlining)] public static void AfterCatchThread() => Parking.ThrowCatchThenSleep();

    static readonly MethodInfo ParkIntString = typeof(Outer.Inner<int>).GetMethod(nameof(Outer.Inner<int>.Park))!.MakeGenericMethod(typeof(string));
    static readonly MethodInfo ParkStringInt = typeof(Outer.Inner<string>).GetMethod(nameof(Outer.Inner<string>.Park))!.MakeGenericMethod(typeof(int));

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void GenericIntStringThread() =>
        Outer.Inner<int>.Park<string>(42, "forty-two", "generic-int-string", new object[] { ParkIntString, Method(nameof(GenericIntStringThread)) });

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void GenericStringIntThread() =>
        Outer.Inner<string>.Park<int>("seven", 7, "generic-string-int", new object[] { ParkStringInt, Method(nameof(GenericStringIntThread)) });

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void DynamicThread() => DynamicPark!(Timeout.Infinite, Roots.Leaves[2]);

    static Action<int, Outer.Leaf>? DynamicPark;

    /** A DynamicMethod "ParkInDynamicMethod(int, Outer.Leaf)" whose IL calls Parking.SleepFromDynamic(int). */
    static void BuildDynamicMethod()
    {
        Dynamic = new DynamicMethod("ParkInDynamicMethod", typeof(void), new[] { typeof(int), typeof(Outer.Leaf) }, typeof(Program).Module);
        var il = Dynamic.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, typeof(Parking).GetMethod(nameof(Parking.SleepFromDynamic))!);
        // A call after it: a call followed by ret would be compiled as a tail call (no frame).
        il.Emit(OpCodes.Call, typeof(Parking).GetMethod(nameof(Parking.AfterDynamic))!);
        il.Emit(OpCodes.Ret);
        DynamicPark = Dynamic.CreateDelegate<Action<int, Outer.Leaf>>();
    }

    static int PipeReadFd;

    static bool HasRole(string role) { lock (Parked) return Parked.Any(p => p.Role == role); }

    static void Start(string name, ThreadStart body, bool background = true) => new Thread(body) { Name = name, IsBackground = background }.Start();

    static string Hex(IntPtr p) => "0x" + p.ToString("x");

    static char TaskState(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        return stat[stat.LastIndexOf(')') + 2];   // field 3, after "pid (comm) "
    }

    /** Overlays an object's data: &Unsafe.As<RawData>(o).Data is the first byte after its MethodTable pointer. */
    sealed class RawData { public byte Data; }

    static readonly ScenarioFailure KeptException = ThrowAndCatch();

    [MethodImpl(MethodImplOptions.NoInlining)]
    static ScenarioFailure ThrowAndCatch()
    {
        try { throw new ScenarioFailure("kept-exception-message"); }
        catch (ScenarioFailure e) { return e; }
    }

    static object TypeEntry(Type t) => new { name = SosNames.TypeName(t), methodTable = Hex(t.TypeHandle.Value) };

    static object MethodEntry(MethodBase m) => new { name = SosNames.MethodName(m), methodDesc = Hex(m.MethodHandle.Value) };

    /** The MethodDesc of a DynamicMethod (the runtime hands it out through an internal method once compiled). */
    static string? DynamicMethodDesc()
    {
        try
        {
            var get = typeof(DynamicMethod).GetMethod("GetMethodDescriptor", BindingFlags.Instance | BindingFlags.NonPublic);
            return get?.Invoke(Dynamic, null) is RuntimeMethodHandle h ? Hex(h.Value) : null;
        }
        catch (Exception) { return null; }
    }

    public static unsafe int Main(string[] args)
    {
        if (args.Length < 1) { Console.Error.WriteLine("usage: scenarios <truth.json>"); return 2; }
        fixed (byte* exceptionData = &Unsafe.As<RawData>(KeptException).Data)
        {
            IntPtr exceptionAddress = (IntPtr)(exceptionData - sizeof(IntPtr));
            Roots.Allocate();
            int* fds = stackalloc int[2];
            if (Native.pipe(fds) != 0) { Console.Error.WriteLine("pipe failed"); return 3; }
            PipeReadFd = fds[0];
            BuildDynamicMethod();

            Start("sc-monitor", MonitorThread);
            Start("sc-sleep", SleepThread, background: false);
            Start("sc-lock-holder", LockHolderThread);
            Thread.Sleep(50);   // let the holder take the lock first
            while (!HasRole("lock-holder")) Thread.Sleep(10);
            Start("sc-lock-blocked", LockBlockedThread);
            Start("sc-pinvoke", PInvokeThread);
            Start("sc-pinvoke-stub", PInvokeStubThread);
            ThreadPool.QueueUserWorkItem(PoolWorkItem, null);
            Start("sc-generic-is", GenericIntStringThread);
            Start("sc-generic-si", GenericStringIntThread);
            Start("sc-dynamic", DynamicThread);
            Start("sc-in-catch", InCatchThread);
            Start("sc-after-catch", AfterCatchThread);
            Start("sc-nested", NestedCatchThread);
            if (!Started.Wait(TimeSpan.FromSeconds(30))) { Console.Error.WriteLine("threads did not start"); return 3; }
            lock (Parking.MonitorGate) { }   // the monitor thread is inside Monitor.Wait
            Record("main", Chain(nameof(Main)));

            // Every parked thread sleeping ('S') on five polls in a row (the contended lock spins first).
            var deadline = DateTime.UtcNow.AddSeconds(20);
            foreach (var p in Parked.Where(p => p.Role != "main"))
                for (int streak = 0; streak < 5 && DateTime.UtcNow < deadline; Thread.Sleep(20))
                    streak = TaskState(p.OsTid) == 'S' ? streak + 1 : 0;
            // Only live objects on the heap, so that object counts are exact.
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();

            string coreclr = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length == 6 && f[5].Trim().EndsWith("/libcoreclr.so")).Select(f => f[5].Trim()).First();
            var truth = new
            {
                pid = Environment.ProcessId,
                runtimeVersion = Environment.Version.ToString(),
                frameworkDescription = RuntimeInformation.FrameworkDescription,
                libcoreclr = coreclr,
                runtimeDir = Path.GetDirectoryName(coreclr),
                processPath = Environment.ProcessPath,
                assembly = typeof(Program).Assembly.Location,
                modules = new Dictionary<string, string>
                {
                    ["scenarios"] = typeof(Program).Assembly.Location,
                    ["System.Private.CoreLib"] = typeof(object).Assembly.Location,
                },
                threads = Parked.Select(p => new
                {
                    role = p.Role,
                    name = p.Thread.Name,
                    osTid = p.OsTid,
                    managedId = p.Thread.ManagedThreadId,
                    isBackground = p.Thread.IsBackground,
                    isThreadPool = p.Thread.IsThreadPoolThread,
                    lastThrownType = p.LastThrownType,
                    nestedExceptions = NestedExceptionRoles.Contains(p.Role),
                    // Frames the runtime adds right above the app's innermost frame, where the app knows them.
                    calleeFrames = p.Role == "pinvoke-stub"
                        ? new[] { SosNames.PInvokeStubName(typeof(Native).GetMethod(nameof(Native.readSettingLastError))!) }
                        : Array.Empty<string>(),
                    frames = p.Frames.Select(f => new { name = f.Name, app = f.App }),
                }).ToList(),
                methodTables = Roots.Types.Select(TypeEntry).ToList(),
                // Generic definitions: the MethodTable/MethodDesc the module's TypeDef/MethodDef maps hold (name2ee).
                typicalMethodTables = new[] { typeof(Outer.Inner<>), typeof(Pair<,>) }.Select(TypeEntry).ToList(),
                typicalMethodDescs = new[] { typeof(Outer.Inner<>).GetMethod(nameof(Outer.Inner<int>.Park))! }.Select(MethodEntry).ToList(),
                methodDescs = new[]
                {
                    Method(nameof(Parking.SleepWithArgs)), Method(nameof(Parking.WaitOnMonitor)), Method(nameof(Parking.ReadPipe)),
                    Method(nameof(Main)), ParkIntString, ParkStringInt,
                    typeof(Outer.Inner<int>).GetMethod(nameof(Outer.Inner<int>.Park))!.MakeGenericMethod(typeof(int)),
                    typeof(Outer.Inner<int>).GetConstructor(new[] { typeof(int) })!,
                }.Select(MethodEntry).ToList(),
                dynamicMethod = new { name = FrameName(Dynamic!), methodDesc = DynamicMethodDesc() },
                objectCounts = Roots.Counts.Select(c => new { name = SosNames.TypeName(c.Key), methodTable = Hex(c.Key.TypeHandle.Value), count = c.Value }).ToList(),
                strings = new { prefix = Roots.StringPrefix, count = Roots.Labels.Length },
                sosObjectTypes = Roots.SosObjectTypes.Select(TypeEntry).ToList(),
                exception = new
                {
                    address = Hex(exceptionAddress),
                    type = SosNames.TypeName(KeptException.GetType()),
                    message = KeptException.Message,
                },
            };
            var json = JsonSerializer.Serialize(truth, new JsonSerializerOptions { WriteIndented = true });
            File.WriteAllText(args[0] + ".tmp", json + "\n");
            File.Move(args[0] + ".tmp", args[0], overwrite: true);
            Console.Out.WriteLine("READY");
            Console.Out.Flush();

            var max = Environment.GetEnvironmentVariable("HELLO_MAX_SECONDS");
            Thread.Sleep(int.TryParse(max, out int s) && s > 0 ? s * 1000 : Timeout.Infinite);
            Environment.Exit(0);   // the foreground sleep thread never ends
            return 0;
        }
    }
}

/** Objects of known types in known counts, kept alive in static fields. */
public static class Roots
{
    public const string StringPrefix = "scenario-string-";
    public static Outer.Leaf[] Leaves = null!;
    public static Outer.Inner<int>[] InnerInts = null!;
    public static Outer.Inner<string>[] InnerStrings = null!;
    public static Outer.Inner<Outer.Leaf> InnerLeaf = null!;
    public static Pair<int, string>[] PairsIntString = null!;
    public static Pair<int[], Outer.Inner<string>> PairNested = null!;
    public static object[] BoxedPoints = null!;
    public static Point[] Points = null!;
    public static string[] Labels = null!;
    public static int[,] Grid = null!;
    public static List<Outer.Leaf> LeafList = null!;
    public static Dictionary<string, Outer.Inner<int>> InnerByName = null!;
    public static GenericDerived<int>[] Derived = null!;
    public static Outer2<string>.Inner2<int> NestedGeneric = null!;
    /** Objects for the SOS oracle's dumpobj tests (not counted: the runtime allocates some of these types too). */
    public static FieldKinds Kinds = null!;
    public static CodedFailure Coded = null!;
    public static SemaphoreSlim NeverReleased = null!;
    /** An async method waiting on NeverReleased: an AsyncStateMachineBox (a Task<int>) and a SemaphoreSlim+TaskNode. */
    public static System.Threading.Tasks.Task<int> Pending = null!;

    /** Types the SOS oracle dumps objects of (Task<int> here is the pending async method's box type). */
    public static Type[] SosObjectTypes => new[]
    {
        typeof(FieldKinds), typeof(CodedFailure), Pending.GetType(), typeof(SemaphoreSlim).GetNestedType("TaskNode", BindingFlags.NonPublic)!,
        typeof(SemaphoreSlim),
    };

    static async System.Threading.Tasks.Task<int> WaitForever(SemaphoreSlim gate, int extra)
    {
        await gate.WaitAsync();
        return extra;
    }

    /** Types whose every instance the app allocates itself: exact counts (after a GC). */
    public static Dictionary<Type, int> Counts = new();

    /** Types whose MethodTables the truth file names. */
    public static readonly Type[] Types =
    {
        typeof(Outer), typeof(Outer.Leaf), typeof(Outer.Inner<int>), typeof(Outer.Inner<string>), typeof(Outer.Inner<Outer.Leaf>),
        typeof(Pair<int, string>), typeof(Pair<int[], Outer.Inner<string>>), typeof(Point), typeof(ScenarioFailure),
        typeof(Outer.Leaf[]), typeof(Outer.Inner<int>[]), typeof(Point[]), typeof(int[]), typeof(string[]), typeof(int[,]),
        typeof(List<Outer.Leaf>), typeof(Dictionary<string, Outer.Inner<int>>), typeof(Pair<int, string>[]),
        typeof(GenericDerived<int>), typeof(GenericBase<int[]>), typeof(Outer2<string>.Inner2<int>),
    };

    public static void Allocate()
    {
        Leaves = Enumerable.Range(0, 4).Select(i => new Outer.Leaf(i)).ToArray();
        InnerInts = Enumerable.Range(0, 3).Select(i => new Outer.Inner<int>(i)).ToArray();
        InnerStrings = Enumerable.Range(0, 2).Select(i => new Outer.Inner<string>("inner-" + i)).ToArray();
        InnerLeaf = new Outer.Inner<Outer.Leaf>(Leaves[1]);
        PairsIntString = Enumerable.Range(0, 5).Select(i => new Pair<int, string>(i, "pair-" + i)).ToArray();
        PairNested = new Pair<int[], Outer.Inner<string>>(new[] { 1, 2, 3 }, InnerStrings[0]);
        BoxedPoints = Enumerable.Range(0, 6).Select(i => (object)new Point(i, -i)).ToArray();
        Points = new[] { new Point(1, 2), new Point(3, 4) };
        Labels = Enumerable.Range(0, 7).Select(i => string.Concat(StringPrefix, i.ToString())).ToArray();
        Grid = new int[2, 3];
        LeafList = new List<Outer.Leaf>(Leaves);
        InnerByName = new Dictionary<string, Outer.Inner<int>> { ["zero"] = InnerInts[0] };
        Derived = new[] { new GenericDerived<int>(), new GenericDerived<int>() };
        NestedGeneric = new Outer2<string>.Inner2<int> { First = "first", Second = 2 };
        Kinds = new FieldKinds();
        GC.KeepAlive(FieldKinds.StaticText);   // runs FieldKinds' class constructor: its statics get their values
        try { throw new CodedFailure("coded-failure-message", 17, new InvalidOperationException("coded-inner-message")); }
        catch (CodedFailure e) { Coded = e; }
        NeverReleased = new SemaphoreSlim(0);
        Pending = WaitForever(NeverReleased, 5);
        Counts = new Dictionary<Type, int>
        {
            [typeof(Outer.Leaf)] = 4, [typeof(Outer.Inner<int>)] = 3, [typeof(Outer.Inner<string>)] = 2,
            [typeof(Outer.Inner<Outer.Leaf>)] = 1, [typeof(Pair<int, string>)] = 5, [typeof(Pair<int[], Outer.Inner<string>>)] = 1,
            [typeof(Point)] = 6, [typeof(Point[])] = 1, [typeof(Outer.Leaf[])] = 2 /* Leaves and LeafList's backing array */, [typeof(Outer.Inner<int>[])] = 1,
            [typeof(Pair<int, string>[])] = 1, [typeof(List<Outer.Leaf>)] = 1, [typeof(Dictionary<string, Outer.Inner<int>>)] = 1,
            [typeof(GenericDerived<int>)] = 2, [typeof(Outer2<string>.Inner2<int>)] = 1,
            [typeof(ScenarioFailure)] = 3,   // the kept one and those being handled on the in-catch and nested threads
        };
    }
}
