// clrscope test target "stackvars": parks one thread in Worker.Outer -> Worker.Inner -> a wait,
// with known parameters and locals, and writes a truth file (argv[0]) with their values (as SOS
// prints them: the value's bits as a 64-bit number; references as object addresses), each
// frame's source line ([CallerLineNumber] on the line of the call it is parked in) and the
// thread's OS id, then prints READY and waits to be dumped. Built without optimization, so the
// JIT keeps every local in its stack home.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;

namespace StackVars;

public sealed class Worker
{
    public readonly string Tag;
    public Worker(string tag) { Tag = tag; }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Outer(int count, string label, long big)
    {
        int doubled = count * 2;
        string shout = string.Concat(label, "!");
        Program.Frame(nameof(Outer), this, new() { ["count"] = count, ["label"] = label, ["big"] = big }, new() { ["doubled"] = doubled, ["shout"] = shout }); Inner(doubled, shout, big + 1);
        GC.KeepAlive(shout);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void Inner(int n, string text, long value)
    {
        long sum = value + n;
        byte[] buffer = new byte[] { 1, 2, 3 };
        Program.Frame(nameof(Inner), this, new() { ["n"] = n, ["text"] = text, ["value"] = value }, new() { ["sum"] = sum, ["buffer"] = buffer }); Program.Gate.Wait();
        GC.KeepAlive(buffer);
    }
}

public static class Program
{
    [DllImport("libc.so.6")] static extern int gettid();   // glibc >= 2.30

    public static readonly ManualResetEventSlim Gate = new(false);
    static readonly ManualResetEventSlim Parked = new(false);
    static readonly List<(string Method, int Line, object This, Dictionary<string, object> Args, Dictionary<string, object> Locals)> Frames = new();
    static int WorkerTid;

    /** Records a frame of the parked chain: its values and the line of the call it makes next (on the same line). */
    public static void Frame(string method, object self, Dictionary<string, object> args, Dictionary<string, object> locals, [CallerLineNumber] int line = 0)
    {
        lock (Frames) Frames.Add(("StackVars.Worker." + method, line, self, args, locals));
        if (method == "Inner") { WorkerTid = gettid(); Parked.Set(); }
    }

    /** Overlays an object's data: &Unsafe.As<RawData>(o).Data is the first byte after its MethodTable pointer. */
    sealed class RawData { public byte Data; }

    static unsafe string Address(object o) => "0x" + ((ulong)((byte*)Unsafe.AsPointer(ref Unsafe.As<RawData>(o).Data) - sizeof(IntPtr))).ToString("x16");

    /** SOS's value text: the bits of a primitive as a 64-bit number, or the object's address. */
    static string SosValue(object v) => v switch
    {
        int i => "0x" + ((ulong)(uint)i).ToString("x16"),
        long l => "0x" + ((ulong)l).ToString("x16"),
        _ => Address(v),
    };

    public static int Main(string[] args)
    {
        if (args.Length < 1) { Console.Error.WriteLine("usage: stackvars <truth.json>"); return 2; }
        new Thread(() => new Worker("stackvars-worker").Outer(42, "stackvars-label", 0x1122334455667788L)) { Name = "stackvars-worker", IsBackground = true }.Start();
        if (!Parked.Wait(TimeSpan.FromSeconds(30))) { Console.Error.WriteLine("worker did not park"); return 3; }
        // From here on no GC may move the objects whose addresses the truth file gives.
        if (!GC.TryStartNoGCRegion(32 * 1024 * 1024)) { Console.Error.WriteLine("no no-GC region"); return 4; }

        string coreclr = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 6 && f[5].Trim().EndsWith("/libcoreclr.so")).Select(f => f[5].Trim()).First();
        var truth = new
        {
            pid = Environment.ProcessId,
            runtimeVersion = Environment.Version.ToString(),
            libcoreclr = coreclr,
            runtimeDir = Path.GetDirectoryName(coreclr),
            assembly = typeof(Program).Assembly.Location,
            workerTid = WorkerTid,
            frames = Frames.Select(f => new
            {
                method = f.Method,
                line = f.Line,
                @this = Address(f.This),
                parameters = f.Args.Select(a => new { name = a.Key, value = SosValue(a.Value) }).ToArray(),
                locals = f.Locals.Select(a => new { name = a.Key, value = SosValue(a.Value) }).ToArray(),
            }).ToArray(),
        };
        var json = JsonSerializer.Serialize(truth, new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(args[0] + ".tmp", json + "\n");
        File.Move(args[0] + ".tmp", args[0], overwrite: true);
        Console.Out.WriteLine("READY");
        Console.Out.Flush();

        var max = Environment.GetEnvironmentVariable("HELLO_MAX_SECONDS");
        Thread.Sleep(int.TryParse(max, out int s) && s > 0 ? s * 1000 : Timeout.Infinite);
        return 0;
    }
}
