// clrscope test target for code versions: Tiering.Program.Hot is called until tiered compilation
// has rejitted it at tier 1 (two native code versions), Cold is called once (tier 0 only) and
// Driver is jitted fully optimized (AggressiveOptimization: not versionable). The truth file holds
// every method's MethodDesc (MethodHandle.Value) and the runtime's own MethodLoadVerbose events
// for them (code start, size, flags with the optimization tier, rejit id), received in-process by
// an EventListener. Then the main thread parks inside Hot's tier-1 code, prints READY and waits
// (forever, or HELLO_MAX_SECONDS) to be dumped. Nothing here comes from clrscope.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;

namespace Tiering;

/// <summary>
/// One MethodLoadVerbose event. EventReJitId is the event's ReJITID field as received: for tiered
/// code the runtime reports 1 there for the tier-1 code although the method was never rejitted
/// (its IL version's rejit id stays 0), so it is kept for reference and not used as a rejit id.
/// </summary>
public sealed record MethodLoad(string Method, string MethodDesc, string Start, long Size, long Flags, long EventReJitId, string Event);

sealed class JitEvents : EventListener
{
    public readonly ConcurrentQueue<MethodLoad> Loads = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        // JitKeyword (0x10) at Verbose: MethodLoadVerbose carries names, code start and flags.
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("MethodLoadVerbose") || e.PayloadNames is null) return;
        object? Get(string name) { int i = e.PayloadNames.IndexOf(name); return i >= 0 ? e.Payload![i] : null; }
        if (Get("MethodNamespace") as string != typeof(Program).FullName) return;
        Loads.Enqueue(new MethodLoad(
            (string)Get("MethodName")!,
            Program.Hex(Convert.ToUInt64(Get("MethodID"))),
            Program.Hex(Convert.ToUInt64(Get("MethodStartAddress"))),
            Convert.ToInt64(Get("MethodSize")),
            Convert.ToInt64(Get("MethodFlags")),
            Convert.ToInt64(Get("ReJITID") ?? 0L),
            e.EventName));
    }
}

public static class Program
{
    public static string Hex(ulong v) => "0x" + v.ToString("x");
    static string Hex(IntPtr p) => Hex((ulong)p.ToInt64());

    static int sink;

    /// <summary>The hot method: tier 0 first, tier 1 once called often enough. Hot(-1) parks the caller.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Hot(int n)
    {
        if (n < 0) Park();
        return n * 3 + 1;
    }

    /// <summary>Called once: stays at tier 0.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Cold(int n) => n * 5 + 2;

    /// <summary>Jitted fully optimized at once (not versionable); it also drives Hot without loops of its own in Main.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static int Driver(int calls)
    {
        int s = 0;
        for (int i = 0; i < calls; i++) s += Hot(i);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Park()
    {
        var max = Environment.GetEnvironmentVariable("HELLO_MAX_SECONDS");
        Thread.Sleep(int.TryParse(max, out int s) && s > 0 ? s * 1000 : Timeout.Infinite);
    }

    static readonly string[] Methods = { nameof(Hot), nameof(Cold), nameof(Driver) };

    static int Main(string[] args)
    {
        using var listener = new JitEvents();
        sink += Cold(1);
        // Call Hot until the runtime reports its tier-1 code (a second MethodLoad), then a little
        // more so that callers run the new code.
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (listener.Loads.Count(l => l.Method == nameof(Hot)) < 2)
        {
            if (DateTime.UtcNow > deadline) { Console.Error.WriteLine("Hot was not rejitted at tier 1"); return 2; }
            sink += Driver(200);
            Thread.Sleep(5);
        }
        sink += Driver(200);
        Thread.Sleep(200);
        sink += Driver(200);
        // Every method's events have arrived when Cold's and Driver's have (they were jitted first).
        while (!Methods.All(m => listener.Loads.Any(l => l.Method == m)))
        {
            if (DateTime.UtcNow > deadline) { Console.Error.WriteLine("missing MethodLoad events"); return 3; }
            Thread.Sleep(10);
        }
        listener.Dispose();

        string coreclr = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 6 && f[5].Trim().EndsWith("/libcoreclr.so")).Select(f => f[5].Trim()).First();
        var truth = new
        {
            pid = Environment.ProcessId,
            runtimeVersion = Environment.Version.ToString(),
            libcoreclr = coreclr,
            runtimeDir = Path.GetDirectoryName(coreclr),
            assembly = typeof(Program).Assembly.Location,
            environment = new[] { "DOTNET_TieredCompilation", "DOTNET_TC_CallCountThreshold", "DOTNET_TC_CallCountingDelayMs", "DOTNET_TieredPGO", "DOTNET_OSR_HitLimit" }
                .ToDictionary(k => k, k => Environment.GetEnvironmentVariable(k)),
            methods = Methods.ToDictionary(m => m, m =>
            {
                var handle = typeof(Program).GetMethod(m, BindingFlags.Public | BindingFlags.Static)!.MethodHandle;
                return new
                {
                    methodDesc = Hex(handle.Value),
                    functionPointer = Hex(handle.GetFunctionPointer()),
                    loads = listener.Loads.Where(l => l.Method == m).ToList(),
                };
            }),
            parkedIn = "Tiering.Program.Hot",
            sink,
        };
        var json = JsonSerializer.Serialize(truth, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase });
        File.WriteAllText(args[0] + ".tmp", json + "\n");
        File.Move(args[0] + ".tmp", args[0], overwrite: true);
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        return Hot(-1);
    }
}
