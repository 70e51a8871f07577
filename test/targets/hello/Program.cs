// clrscope test target "hello": parks threads in known states, writes a truth file (argv[0]),
// prints READY and waits (forever, or HELLO_MAX_SECONDS) to be dumped. Every fact in the truth
// file comes from the process itself, never from clrscope.
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using System.Reflection;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;

namespace Hello;

public static class Program
{
    [DllImport("libc.so.6")] static extern int gettid();   // glibc >= 2.30

    sealed record ThreadTruth(string Role, string? Name, string Comm, int OsTid, int ManagedId,
                              string ParkedIn, bool IsThreadPool, bool IsBackground);

    static readonly List<(string Role, Thread Thread, int OsTid, string ParkedIn)> Parked = new();
    static readonly CountdownEvent Started = new(5);
    static readonly object MonitorObj = new();
    static readonly ManualResetEvent NeverSet = new(false);
    static readonly ManualResetEventSlim NeverSetSlim = new(false);
    static readonly AnonymousPipeServerStream PipeWriter = new(PipeDirection.Out);   // never written to

    static void Record(string role, [CallerMemberName] string method = "")
    {
        lock (Parked) Parked.Add((role, Thread.CurrentThread, gettid(), "Hello.Program." + method));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void SleepForever() { Record("sleep"); Started.Signal(); Thread.Sleep(Timeout.Infinite); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void MonitorWaitForever()
    {
        lock (MonitorObj) { Record("monitor-wait"); Started.Signal(); Monitor.Wait(MonitorObj); }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ReadPipeForever()
    {
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, PipeWriter.ClientSafePipeHandle);
        Record("pipe-read"); Started.Signal();
        _ = reader.Read(new byte[16], 0, 16);   // blocks: the write end is never written
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void WaitEventForever() { Record("event-wait"); Started.Signal(); NeverSet.WaitOne(); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ThreadPoolItemBlocked() { Record("threadpool-item"); Started.Signal(); NeverSetSlim.Wait(); }

    static string Hex(IntPtr p) => "0x" + p.ToString("x");

    /** Overlays an object's data: &Unsafe.As<RawData>(o).Data is the first byte after its MethodTable pointer. */
    sealed class RawData { public byte Data; }

    /** A heap string (not a literal: literals live on the frozen heap) and a thrown-and-caught exception, for dumpobj and printexception. */
    static readonly string TruthString = string.Concat("hello-truth-", "string");
    static readonly Exception TruthException = ThrowAndCatch();

    /** An object with fields of several kinds, for dumpobj's field listing (values known here, checked there). */
    struct TruthPoint { public int X; public long Y; }
    sealed class TruthFields
    {
        public int IntField = -123456;
        public long LongField = 0x123456789ABL;
        public bool BoolField = true;
        public double DoubleField = 3.25;
        public string StringField = string.Concat("hello-field-", "string");
        public TruthPoint PointField = new TruthPoint { X = 7, Y = -8 };
        public static int StaticField;
    }
    static readonly TruthFields TruthFieldsObject = new();

    /** Name, declared type and value (invariant text) of each field of TruthFields, read by reflection. */
    static object[] FieldTruth(object o, Type t, BindingFlags kind) =>
        t.GetFields(kind | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly).Select(f => (object)new
        {
            name = f.Name,
            type = f.FieldType.FullName,
            isStatic = f.IsStatic,
            value = f.FieldType.IsValueType && !f.FieldType.IsPrimitive ? null : Convert.ToString(f.GetValue(o), System.Globalization.CultureInfo.InvariantCulture),
            fields = f.FieldType.IsValueType && !f.FieldType.IsPrimitive ? FieldTruth(f.GetValue(o)!, f.FieldType, BindingFlags.Instance) : null,
        }).ToArray();

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Exception ThrowAndCatch()
    {
        try { throw new InvalidOperationException("hello-exception-message", new ArgumentException("inner-message")); }
        catch (InvalidOperationException e) { return e; }
    }

    /** MethodDesc addresses of the parked methods, as the runtime hands them out (MethodHandle.Value). */
    static Dictionary<string, string> MethodDescs() =>
        new[] { "Main", nameof(SleepForever), nameof(MonitorWaitForever), nameof(ReadPipeForever), nameof(WaitEventForever), nameof(ThreadPoolItemBlocked) }
            .ToDictionary(n => "Hello.Program." + n,
                          n => Hex(typeof(Program).GetMethod(n, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.MethodHandle.Value));

    static void Start(string name, ThreadStart body) => new Thread(body) { Name = name, IsBackground = true }.Start();

    static char TaskState(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        return stat[stat.LastIndexOf(')') + 2];   // field 3, after "pid (comm) "
    }

    public static unsafe int Main(string[] args)
    {
        // Both objects stay pinned (their addresses in the truth file stay exact) while Main waits.
        TruthFields.StaticField = 4242;
        fixed (byte* stringData = &Unsafe.As<RawData>(TruthString).Data, exceptionData = &Unsafe.As<RawData>(TruthException).Data,
               fieldsData = &Unsafe.As<RawData>(TruthFieldsObject).Data)
        {
        IntPtr stringAddress = (IntPtr)(stringData - sizeof(IntPtr)), exceptionAddress = (IntPtr)(exceptionData - sizeof(IntPtr)),
               fieldsAddress = (IntPtr)(fieldsData - sizeof(IntPtr));
        if (args.Length < 1) { Console.Error.WriteLine("usage: hello <truth.json>"); return 2; }
        Record("main", "Main");
        Start("hello-sleep", SleepForever);
        Start("hello-monitor", MonitorWaitForever);
        Start("hello-pipe", ReadPipeForever);
        Start("hello-event", WaitEventForever);
        ThreadPool.UnsafeQueueUserWorkItem(_ => ThreadPoolItemBlocked(), null);
        if (!Started.Wait(TimeSpan.FromSeconds(30))) { Console.Error.WriteLine("threads did not start"); return 3; }
        lock (MonitorObj) { }   // the monitor thread has released the lock: it is inside Monitor.Wait

        // Wait until every parked thread has been sleeping ('S') on two polls in a row.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        foreach (var p in Parked.Where(p => p.Role != "main"))
            for (int streak = 0; streak < 2 && DateTime.UtcNow < deadline; Thread.Sleep(20))
                streak = TaskState(p.OsTid) == 'S' ? streak + 1 : 0;

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
            methodDescs = MethodDescs(),
            methodTables = new Dictionary<string, string>
            {
                ["Hello.Program"] = Hex(typeof(Program).TypeHandle.Value),
                ["System.String"] = Hex(typeof(string).TypeHandle.Value),
                ["System.Threading.Thread"] = Hex(typeof(Thread).TypeHandle.Value),
                ["Hello.Program+TruthFields"] = Hex(typeof(TruthFields).TypeHandle.Value),
                ["Hello.Program+TruthPoint"] = Hex(typeof(TruthPoint).TypeHandle.Value),
            },
            objects = new
            {
                @string = new { address = Hex(stringAddress), value = TruthString },
                exception = new
                {
                    address = Hex(exceptionAddress),
                    type = TruthException.GetType().FullName,
                    message = TruthException.Message,
                    hResult = TruthException.HResult.ToString("x8"),
                    innerType = TruthException.InnerException!.GetType().FullName,
                    innerMessage = TruthException.InnerException.Message,
                },
                fields = new
                {
                    address = Hex(fieldsAddress),
                    type = typeof(TruthFields).FullName,
                    fields = FieldTruth(TruthFieldsObject, typeof(TruthFields), BindingFlags.Instance | BindingFlags.Static),
                },
            },
            threads = Parked.Select(p => new ThreadTruth(p.Role, p.Thread.Name,
                File.ReadAllText($"/proc/self/task/{p.OsTid}/comm").TrimEnd('\n'), p.OsTid,
                p.Thread.ManagedThreadId, p.ParkedIn, p.Thread.IsThreadPoolThread, p.Thread.IsBackground)).ToList(),
        };
        var json = JsonSerializer.Serialize(truth, new JsonSerializerOptions
            { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase });
        File.WriteAllText(args[0] + ".tmp", json + "\n");
        File.Move(args[0] + ".tmp", args[0], overwrite: true);
        Console.Out.WriteLine("READY");
        Console.Out.Flush();

        var max = Environment.GetEnvironmentVariable("HELLO_MAX_SECONDS");
        Thread.Sleep(int.TryParse(max, out int s) && s > 0 ? s * 1000 : Timeout.Infinite);
        GC.KeepAlive(PipeWriter);
        return 0;
        }
    }
}
