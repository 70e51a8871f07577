// clrmd-oracle: an independent oracle for clrscope's tests. Opens a .NET core dump with ClrMD
// (Microsoft.Diagnostics.Runtime), which loads the runtime's own DAC (libmscordaccore.so), and
// prints ONE JSON document to stdout.
//
//   clrmd-oracle [--dac <libmscordaccore.so>] <dump> <what> [args...]
//
//   runtime            ClrInfo, DAC used, app domains, heap/thread-pool summary
//   threads            every ClrThread (ids, GC mode, state flags, allocation context, exception)
//   stacks             every thread's EnumerateStackTrace(includeContext: true)
//   modules            every ClrModule, plus the data target's (ELF) modules
//   heapstat           per-MethodTable object count and total size (dumpheap -stat)
//   types <name|0xMT>  MethodTable, sizes, parent, fields and methods (name2ee / dumpmt)
//   objects <0xaddr>   type, size and field values of the given objects (dumpobj)
//
// Conventions: addresses (and other 64-bit pointers) are "0x..." hex strings; 64-bit integer field
// values are decimal strings (JSON numbers lose precision past 2^53); everything else is a plain
// JSON value. A failure on one item (thread, frame, module, field...) is reported on that item as
// "error" (or "<key>Error" for one property) and never stops the run. Exit code: 0 when a document
// was produced, 1 when the dump could not be opened at all (the document then holds "error"),
// 2 for bad usage.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Diagnostics.Runtime;

namespace ClrmdOracle;

public static class Program
{
    const int MaxStringChars = 4096;
    const int MaxArrayElements = 16;

    static string Hex(ulong v) => "0x" + v.ToString("x");

    static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    /// <summary>Sets o[key] = value(), or o[key + "Error"] = the exception's message.</summary>
    static void Try(JsonObject o, string key, Func<JsonNode?> value)
    {
        try
        {
            o[key] = value();
        }
        catch (Exception e)
        {
            o[key + "Error"] = Describe(e);
        }
    }

    /// <summary>Builds one item, or { "error": ... } when building it throws.</summary>
    static JsonNode Item(Func<JsonNode> build, JsonObject? partial = null)
    {
        try
        {
            return build();
        }
        catch (Exception e)
        {
            var o = partial ?? new JsonObject();
            o["error"] = Describe(e);
            return o;
        }
    }

    static int Usage()
    {
        Console.Error.WriteLine(
            "usage: clrmd-oracle [--dac <libmscordaccore.so>] <dump> " +
            "<runtime|threads|stacks|modules|heapstat|types <name|0xMT>...|objects <0xaddr>...>");
        return 2;
    }

    public static int Main(string[] argv)
    {
        var args = new List<string>(argv);
        string? dacOverride = Environment.GetEnvironmentVariable("CLRMD_ORACLE_DAC");
        int dacAt = args.IndexOf("--dac");
        if (dacAt >= 0)
        {
            if (dacAt + 1 >= args.Count) return Usage();
            dacOverride = args[dacAt + 1];
            args.RemoveRange(dacAt, 2);
        }
        if (args.Count < 2) return Usage();
        string dump = args[0];
        string what = args[1];
        string[] rest = args.Skip(2).ToArray();
        var known = new[] { "runtime", "threads", "stacks", "modules", "heapstat", "types", "objects" };
        if (!known.Contains(what)) return Usage();

        var sw = Stopwatch.StartNew();
        var doc = new JsonObject
        {
            ["what"] = what,
            ["args"] = new JsonArray(rest.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["dump"] = dump,
            ["clrmdVersion"] = typeof(DataTarget).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
        };
        int rc = 0;
        try
        {
            var options = new DataTargetOptions
            {
                // No symbol server: this machine has no network and the DAC is on disk anyway.
                SymbolPaths = Array.Empty<string>(),
                SymbolCachePath = Path.Combine(Path.GetTempPath(), "clrmd-oracle-symbols"),
            };
            using DataTarget dt = DataTarget.LoadDump(dump, options);
            doc["pointerSize"] = dt.DataReader.PointerSize;
            doc["architecture"] = dt.DataReader.Architecture.ToString();
            doc["targetPlatform"] = dt.DataReader.TargetPlatform.ToString();
            doc["processId"] = dt.DataReader.ProcessId;
            if (dt.DataReader is IDumpInfoProvider info)
            {
                doc["isMiniOrTriage"] = info.IsMiniOrTriage;
                doc["isCreatedByDotNetRuntime"] = info.IsCreatedByDotNetRuntime;
            }
            if (dt.ClrVersions.Length == 0) throw new InvalidOperationException("no CLR found in the dump");
            ClrInfo clr = dt.ClrVersions[0];
            string? dac = dacOverride ?? LocalDac(clr);
            doc["dacPath"] = dac;
            doc["dacFileVersion"] = dac is null ? null : FileVersion(dac);
            // ClrMD reads no version out of an ELF libcoreclr.so in a core dump (ClrInfo.Version is
            // 0.0.0.0), so its DAC version check always fails there: skip it, and report the DAC's
            // own "@(#)Version" string instead for the caller to check.
            using ClrRuntime rt = dac is not null ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
            doc["openMs"] = sw.ElapsedMilliseconds;
            doc["result"] = what switch
            {
                "runtime" => Runtime(dt, clr, rt),
                "threads" => Threads(rt),
                "stacks" => Stacks(rt),
                "modules" => Modules(dt, rt),
                "heapstat" => HeapStat(rt),
                "types" => Types(rt, rest),
                "objects" => Objects(rt, rest),
                _ => throw new InvalidOperationException(what),
            };
        }
        catch (Exception e)
        {
            doc["error"] = Describe(e);
            doc["errorDetail"] = e.ToString();
            rc = 1;
        }
        doc["elapsedMs"] = sw.ElapsedMilliseconds;
        var json = doc.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        var stdout = Console.OpenStandardOutput();
        var bytes = System.Text.Encoding.UTF8.GetBytes(json + "\n");
        stdout.Write(bytes, 0, bytes.Length);
        stdout.Flush();
        return rc;
    }

    /// <summary>The "@(#)Version x.y.z.w @Commit: ..." string the .NET build stamps into its binaries.</summary>
    static string? FileVersion(string path)
    {
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            byte[] tag = System.Text.Encoding.ASCII.GetBytes("@(#)Version ");
            int at = bytes.AsSpan().IndexOf(tag);
            if (at < 0) return null;
            int start = at + tag.Length, end = start;
            while (end < bytes.Length && bytes[end] >= 0x20 && bytes[end] < 0x7f) end++;
            return System.Text.Encoding.ASCII.GetString(bytes, start, end - start);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>The DAC next to the dump's libcoreclr.so, when that path exists on this machine.</summary>
    static string? LocalDac(ClrInfo clr)
    {
        foreach (var lib in clr.DebuggingLibraries)
        {
            if (lib.Kind == DebugLibraryKind.Dac && Path.IsPathRooted(lib.FileName) && File.Exists(lib.FileName))
                return lib.FileName;
        }
        string? dir = Path.GetDirectoryName(clr.ModuleInfo.FileName);
        if (dir is not null)
        {
            string p = Path.Combine(dir, "libmscordaccore.so");
            if (File.Exists(p)) return p;
        }
        return null; // let ClrMD look for it (it will fail without a symbol server)
    }

    // ---------------------------------------------------------------- runtime

    static JsonObject AppDomain(ClrAppDomain? d)
    {
        if (d is null) return new JsonObject { ["address"] = null };
        var o = new JsonObject { ["address"] = Hex(d.Address) };
        Try(o, "id", () => d.Id);
        Try(o, "name", () => d.Name);
        Try(o, "loaderAllocator", () => Hex(d.LoaderAllocator));
        Try(o, "moduleCount", () => d.Modules.Length);
        Try(o, "applicationBase", () => d.ApplicationBase);
        return o;
    }

    static JsonNode Runtime(DataTarget dt, ClrInfo clr, ClrRuntime rt)
    {
        var o = new JsonObject();
        var info = new JsonObject();
        Try(info, "version", () => clr.Version.ToString());
        Try(info, "flavor", () => clr.Flavor.ToString());
        Try(info, "isSingleFile", () => clr.IsSingleFile);
        Try(info, "module", () => new JsonObject
        {
            ["fileName"] = clr.ModuleInfo.FileName,
            ["imageBase"] = Hex(clr.ModuleInfo.ImageBase),
            ["imageSize"] = clr.ModuleInfo.ImageSize,
            ["kind"] = clr.ModuleInfo.Kind.ToString(),
            ["buildId"] = Convert.ToHexString(clr.ModuleInfo.BuildId.AsSpan()).ToLowerInvariant(),
            ["version"] = clr.ModuleInfo.Version?.ToString(),
        });
        Try(info, "contractDescriptorAddress", () => Hex(clr.ContractDescriptorAddress));
        Try(info, "indexFileSize", () => clr.IndexFileSize);
        Try(info, "indexTimeStamp", () => clr.IndexTimeStamp);
        Try(info, "debuggingLibraries", () => new JsonArray(clr.DebuggingLibraries.Select(l => (JsonNode?)new JsonObject
        {
            ["kind"] = l.Kind.ToString(),
            ["fileName"] = l.FileName,
            ["platform"] = l.Platform.ToString(),
            ["architecture"] = l.TargetArchitecture.ToString(),
            ["buildId"] = Convert.ToHexString(l.IndexBuildId.IsDefault ? Array.Empty<byte>() : l.IndexBuildId.AsSpan()).ToLowerInvariant(),
        }).ToArray()));
        o["clrInfo"] = info;
        o["clrCount"] = dt.ClrVersions.Length;
        Try(o, "appDomains", () => new JsonArray(rt.AppDomains.Select(d => (JsonNode?)Item(() => AppDomain(d))).ToArray()));
        Try(o, "systemDomain", () => AppDomain(rt.SystemDomain));
        Try(o, "sharedDomain", () => AppDomain(rt.SharedDomain));
        Try(o, "baseClassLibrary", () => rt.BaseClassLibrary is { } bcl
            ? new JsonObject { ["address"] = Hex(bcl.Address), ["name"] = bcl.Name } : null);
        Try(o, "threadCount", () => rt.Threads.Length);
        Try(o, "heap", () =>
        {
            var h = rt.Heap;
            return new JsonObject
            {
                ["isServer"] = h.IsServer,
                ["canWalkHeap"] = h.CanWalkHeap,
                ["subHeapCount"] = h.SubHeaps.Length,
                ["segmentCount"] = h.Segments.Length,
                ["stringMT"] = Hex(h.StringType.MethodTable),
                ["objectMT"] = Hex(h.ObjectType.MethodTable),
                ["freeMT"] = Hex(h.FreeType.MethodTable),
                ["exceptionMT"] = Hex(h.ExceptionType.MethodTable),
            };
        });
        Try(o, "threadPool", () =>
        {
            var tp = rt.ThreadPool;
            if (tp is null) return null;
            var p = new JsonObject();
            Try(p, "usingPortableThreadPool", () => tp.UsingPortableThreadPool);
            Try(p, "minThreads", () => tp.MinThreads);
            Try(p, "maxThreads", () => tp.MaxThreads);
            Try(p, "idleWorkerThreads", () => tp.IdleWorkerThreads);
            Try(p, "activeWorkerThreads", () => tp.ActiveWorkerThreads);
            Try(p, "retiredWorkerThreads", () => tp.RetiredWorkerThreads);
            Try(p, "cpuUtilization", () => tp.CpuUtilization);
            return p;
        });
        return o;
    }

    // ---------------------------------------------------------------- threads

    /// <summary>The runtime's Thread::ThreadState bits (threads.h), including those ClrMD's enum omits.</summary>
    static readonly (uint Bit, string Name)[] ThreadStateBits =
    {
        (0x00000001, "TS_AbortRequested"), (0x00000002, "TS_GCSuspendPending"),
        (0x00000004, "TS_UserSuspendPending"), (0x00000008, "TS_DebugSuspendPending"),
        (0x00000010, "TS_GCOnTransitions"), (0x00000020, "TS_LegalToJoin"),
        (0x00000040, "TS_YieldRequested"), (0x00000080, "TS_Hijacked"),
        (0x00000100, "TS_BlockGCForSO"), (0x00000200, "TS_Background"),
        (0x00000400, "TS_Unstarted"), (0x00000800, "TS_Dead"),
        (0x00001000, "TS_WeOwn"), (0x00002000, "TS_CoInitialized"),
        (0x00004000, "TS_InSTA"), (0x00008000, "TS_InMTA"),
        (0x00010000, "TS_ReportDead"), (0x00020000, "TS_FullyInitialized"),
        (0x00040000, "TS_TaskReset"), (0x00080000, "TS_SyncSuspended"),
        (0x00100000, "TS_DebugWillSync"), (0x00200000, "TS_StackCrawlNeeded"),
        (0x00400000, "TS_SuspendUnstarted"), (0x00800000, "TS_Aborted"),
        (0x01000000, "TS_TPWorkerThread"), (0x02000000, "TS_Interruptible"),
        (0x04000000, "TS_Interrupted"), (0x08000000, "TS_CompletionPortThread"),
        (0x10000000, "TS_AbortInitiated"), (0x20000000, "TS_Finalized"),
        (0x40000000, "TS_FailStarted"), (0x80000000, "TS_Detached"),
    };

    static JsonObject Exception(ClrException ex, int depth = 0)
    {
        var o = new JsonObject { ["address"] = Hex(ex.Address) };
        Try(o, "type", () => ex.Type?.Name);
        Try(o, "methodTable", () => ex.Type is null ? null : Hex(ex.Type.MethodTable));
        Try(o, "message", () => ex.Message);
        Try(o, "hresult", () => ex.HResult);
        Try(o, "stackTrace", () => new JsonArray(ex.StackTrace.Select(f => (JsonNode?)new JsonObject
        {
            ["ip"] = Hex(f.InstructionPointer),
            ["sp"] = Hex(f.StackPointer),
            ["method"] = f.Method?.Signature,
        }).ToArray()));
        if (depth < 8) Try(o, "inner", () => ex.Inner is { } inner ? Exception(inner, depth + 1) : null);
        return o;
    }

    static JsonNode Threads(ClrRuntime rt)
    {
        var list = new JsonArray();
        foreach (ClrThread t in rt.Threads)
        {
            var o = new JsonObject();
            list.Add(Item(() =>
            {
                o["address"] = Hex(t.Address);
                Try(o, "managedThreadId", () => t.ManagedThreadId);
                Try(o, "osThreadId", () => t.OSThreadId);
                Try(o, "gcMode", () => t.GCMode.ToString());
                Try(o, "state", () => "0x" + ((uint)t.State).ToString("x"));
                Try(o, "stateFlags", () => new JsonArray(ThreadStateBits
                    .Where(b => ((uint)t.State & b.Bit) != 0).Select(b => (JsonNode?)b.Name).ToArray()));
                Try(o, "isAlive", () => t.IsAlive);
                Try(o, "isFinalizer", () => t.IsFinalizer);
                Try(o, "isGc", () => t.IsGc);
                Try(o, "isBackground", () => (t.State & ClrThreadState.TS_Background) != 0);
                Try(o, "isThreadpoolWorker", () => (t.State & ClrThreadState.TS_TPWorkerThread) != 0);
                Try(o, "isCompletionPort", () => (t.State & ClrThreadState.TS_CompletionPortThread) != 0);
                Try(o, "isUnstarted", () => (t.State & ClrThreadState.TS_Unstarted) != 0);
                Try(o, "isDead", () => (t.State & ClrThreadState.TS_Dead) != 0);
                Try(o, "lockCount", () => t.LockCount);
                Try(o, "stackBase", () => Hex(t.StackBase));
                Try(o, "stackLimit", () => Hex(t.StackLimit));
                Try(o, "allocationContext", () => new JsonObject
                {
                    ["start"] = Hex(t.AllocationContext.Start),
                    ["end"] = Hex(t.AllocationContext.End),
                });
                Try(o, "appDomain", () => t.CurrentAppDomain is { } d ? Hex(d.Address) : null);
                Try(o, "currentException", () => t.CurrentException is { } ex ? Exception(ex) : null);
                return o;
            }, o));
        }
        return new JsonObject { ["count"] = list.Count, ["threads"] = list };
    }

    // ---------------------------------------------------------------- stacks

    static JsonObject Method(ClrMethod m, ulong ip)
    {
        var o = new JsonObject();
        Try(o, "methodDesc", () => Hex(m.MethodDesc));
        Try(o, "name", () => m.Name);
        Try(o, "signature", () => m.Signature);
        Try(o, "type", () => m.Type?.Name);
        Try(o, "typeMT", () => m.Type is null ? null : Hex(m.Type.MethodTable));
        Try(o, "module", () => m.Type?.Module?.Name);
        Try(o, "metadataToken", () => "0x" + m.MetadataToken.ToString("x8"));
        Try(o, "nativeCode", () => Hex(m.NativeCode));
        Try(o, "compilationType", () => m.CompilationType.ToString());
        if (ip != 0) Try(o, "ilOffset", () => m.GetILOffset(ip));
        return o;
    }

    /// <summary>The frame's unwound rip/rsp/rbp (x64 targets only; null elsewhere).</summary>
    static JsonNode? Registers(ClrRuntime rt, ClrStackFrame f)
    {
        ReadOnlySpan<byte> ctx = f.Context;
        if (rt.DataTarget.DataReader.Architecture != System.Runtime.InteropServices.Architecture.X64) return null;
        if (ctx.Length < System.Runtime.CompilerServices.Unsafe.SizeOf<AMD64Context>()) return null;
        AMD64Context c = System.Runtime.InteropServices.MemoryMarshal.Read<AMD64Context>(ctx);
        return new JsonObject { ["rip"] = Hex(c.Rip), ["rsp"] = Hex(c.Rsp), ["rbp"] = Hex(c.Rbp) };
    }

    static JsonNode Stacks(ClrRuntime rt)
    {
        var list = new JsonArray();
        foreach (ClrThread t in rt.Threads)
        {
            var o = new JsonObject();
            list.Add(Item(() =>
            {
                o["address"] = Hex(t.Address);
                Try(o, "managedThreadId", () => t.ManagedThreadId);
                Try(o, "osThreadId", () => t.OSThreadId);
                var frames = new JsonArray();
                o["frames"] = frames;
                try
                {
                    foreach (ClrStackFrame f in t.EnumerateStackTrace(includeContext: true))
                    {
                        var fo = new JsonObject();
                        frames.Add(Item(() =>
                        {
                            fo["kind"] = f.Kind.ToString();
                            fo["ip"] = Hex(f.InstructionPointer);
                            fo["sp"] = Hex(f.StackPointer);
                            Try(fo, "frameName", () => f.FrameName);
                            Try(fo, "contextSize", () => f.Context.Length);
                            Try(fo, "context", () => Registers(rt, f));
                            Try(fo, "method", () => f.Method is { } m ? Method(m, f.InstructionPointer) : null);
                            Try(fo, "text", () => f.ToString());
                            return fo;
                        }, fo));
                    }
                }
                catch (Exception e)
                {
                    o["error"] = Describe(e); // frames gathered so far are kept
                }
                return o;
            }, o));
        }
        return new JsonObject { ["count"] = list.Count, ["threads"] = list };
    }

    // ---------------------------------------------------------------- modules

    static JsonNode Modules(DataTarget dt, ClrRuntime rt)
    {
        var list = new JsonArray();
        foreach (ClrModule m in rt.EnumerateModules())
        {
            var o = new JsonObject();
            list.Add(Item(() =>
            {
                o["address"] = Hex(m.Address);
                Try(o, "name", () => m.Name);
                Try(o, "assemblyName", () => m.AssemblyName);
                Try(o, "assemblyAddress", () => Hex(m.AssemblyAddress));
                Try(o, "appDomain", () => m.AppDomain is { } d ? Hex(d.Address) : null);
                Try(o, "imageBase", () => Hex(m.ImageBase));
                Try(o, "size", () => m.Size);
                Try(o, "isDynamic", () => m.IsDynamic);
                Try(o, "isPEFile", () => m.IsPEFile);
                Try(o, "layout", () => m.Layout.ToString());
                Try(o, "metadataAddress", () => Hex(m.MetadataAddress));
                Try(o, "metadataLength", () => m.MetadataLength);
                Try(o, "thunkHeap", () => Hex(m.ThunkHeap));
                Try(o, "loaderAllocator", () => Hex(m.LoaderAllocator));
                Try(o, "debuggingMode", () => m.DebuggingMode.ToString());
                Try(o, "pdb", () => m.Pdb is { } p
                    ? new JsonObject { ["path"] = p.Path, ["guid"] = p.Guid.ToString(), ["revision"] = p.Revision }
                    : null);
                return o;
            }, o));
        }
        var native = new JsonArray();
        try
        {
            foreach (ModuleInfo mi in dt.EnumerateModules())
            {
                var o = new JsonObject();
                native.Add(Item(() =>
                {
                    o["fileName"] = mi.FileName;
                    o["imageBase"] = Hex(mi.ImageBase);
                    Try(o, "imageSize", () => mi.ImageSize);
                    Try(o, "kind", () => mi.Kind.ToString());
                    Try(o, "isManaged", () => mi.IsManaged);
                    Try(o, "buildId", () => Convert.ToHexString(mi.BuildId.IsDefault ? Array.Empty<byte>() : mi.BuildId.AsSpan()).ToLowerInvariant());
                    return o;
                }, o));
            }
        }
        catch (Exception e)
        {
            native.Add(new JsonObject { ["error"] = Describe(e) });
        }
        return new JsonObject { ["count"] = list.Count, ["modules"] = list, ["dataTargetModules"] = native };
    }

    // ---------------------------------------------------------------- heapstat

    sealed class Stat
    {
        public string? Name;
        public bool IsFree;
        public long Count;
        public ulong TotalSize;
        public ulong FirstObject;
    }

    static JsonNode HeapStat(ClrRuntime rt)
    {
        ClrHeap heap = rt.Heap;
        var o = new JsonObject { ["canWalkHeap"] = heap.CanWalkHeap, ["isServer"] = heap.IsServer };
        Try(o, "segments", () => new JsonArray(heap.Segments.Select(s => (JsonNode?)new JsonObject
        {
            ["address"] = Hex(s.Address),
            ["kind"] = s.Kind.ToString(),
            ["start"] = Hex(s.Start),
            ["end"] = Hex(s.End),
            ["committedStart"] = Hex(s.CommittedMemory.Start),
            ["committedEnd"] = Hex(s.CommittedMemory.End),
            ["reservedEnd"] = Hex(s.ReservedMemory.End),
            ["subHeap"] = s.SubHeap.Index,
        }).ToArray()));
        var stats = new Dictionary<ulong, Stat>();
        long objects = 0, freeObjects = 0, badObjects = 0;
        ulong totalSize = 0, freeSize = 0;
        try
        {
            foreach (ClrObject obj in heap.EnumerateObjects())
            {
                ClrType? type = obj.Type;
                if (type is null)
                {
                    badObjects++;
                    continue;
                }
                ulong size = obj.Size;
                if (!stats.TryGetValue(type.MethodTable, out Stat? s))
                {
                    s = new Stat { Name = type.Name, IsFree = type.IsFree, FirstObject = obj.Address };
                    stats[type.MethodTable] = s;
                }
                s.Count++;
                s.TotalSize += size;
                objects++;
                totalSize += size;
                if (type.IsFree)
                {
                    freeObjects++;
                    freeSize += size;
                }
            }
        }
        catch (Exception e)
        {
            o["walkError"] = Describe(e); // counts below cover the objects walked before the failure
        }
        o["totalObjects"] = objects;
        o["totalSize"] = totalSize;
        o["freeObjects"] = freeObjects;
        o["freeSize"] = freeSize;
        o["objectsWithoutType"] = badObjects;
        o["typeCount"] = stats.Count;
        o["stats"] = new JsonArray(stats
            .OrderBy(kv => kv.Value.TotalSize).ThenBy(kv => kv.Key)
            .Select(kv => (JsonNode?)new JsonObject
            {
                ["methodTable"] = Hex(kv.Key),
                ["name"] = kv.Value.Name,
                ["isFree"] = kv.Value.IsFree,
                ["count"] = kv.Value.Count,
                ["totalSize"] = kv.Value.TotalSize,
                ["firstObject"] = Hex(kv.Value.FirstObject),
            }).ToArray());
        return o;
    }

    // ---------------------------------------------------------------- types

    static ulong ParseAddress(string s)
    {
        string t = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
        return Convert.ToUInt64(t, 16);
    }

    static JsonObject Type(ClrType type, ClrAppDomain? domain)
    {
        var o = new JsonObject { ["methodTable"] = Hex(type.MethodTable) };
        Try(o, "name", () => type.Name);
        Try(o, "baseSize", () => type.StaticSize);
        Try(o, "componentSize", () => type.ComponentSize);
        o["eeClass"] = null; // not exposed by ClrMD 4.x's public API (its SOSDac interface is internal)
        Try(o, "parentMT", () => type.BaseType is { } b ? Hex(b.MethodTable) : null);
        Try(o, "parentName", () => type.BaseType?.Name);
        Try(o, "module", () => type.Module is { } m ? new JsonObject { ["address"] = Hex(m.Address), ["name"] = m.Name } : null);
        Try(o, "metadataToken", () => "0x" + type.MetadataToken.ToString("x8"));
        Try(o, "elementType", () => type.ElementType.ToString());
        Try(o, "typeAttributes", () => "0x" + ((int)type.TypeAttributes).ToString("x"));
        Try(o, "isValueType", () => type.IsValueType);
        Try(o, "isArray", () => type.IsArray);
        Try(o, "isString", () => type.IsString);
        Try(o, "isEnum", () => type.IsEnum);
        Try(o, "isException", () => type.IsException);
        Try(o, "isFinalizable", () => type.IsFinalizable);
        Try(o, "isCollectible", () => type.IsCollectible);
        Try(o, "containsPointers", () => type.ContainsPointers);
        Try(o, "componentType", () => type.ComponentType?.Name);
        Try(o, "interfaces", () => new JsonArray(type.EnumerateInterfaces().Select(i => (JsonNode?)i.Name).ToArray()));
        Try(o, "fields", () => new JsonArray(type.Fields.Select(f => (JsonNode?)Item(() => new JsonObject
        {
            ["name"] = f.Name,
            ["type"] = f.Type?.Name,
            ["elementType"] = f.ElementType.ToString(),
            ["offset"] = f.Offset,
            ["objectOffset"] = type.IsValueType ? null : f.Offset + type.Heap.Runtime.DataTarget.DataReader.PointerSize,
            ["size"] = f.Size,
            ["token"] = "0x" + f.Token.ToString("x8"),
            ["isObjectReference"] = f.IsObjectReference,
            ["isValueType"] = f.IsValueType,
        })).ToArray()));
        Try(o, "staticFields", () => new JsonArray(type.StaticFields.Select(f => (JsonNode?)Item(() =>
        {
            var so = new JsonObject
            {
                ["name"] = f.Name,
                ["type"] = f.Type?.Name,
                ["elementType"] = f.ElementType.ToString(),
                ["offset"] = f.Offset,
                ["token"] = "0x" + f.Token.ToString("x8"),
            };
            if (domain is not null)
            {
                Try(so, "address", () => Hex(f.GetAddress(domain)));
                Try(so, "isInitialized", () => f.IsInitialized(domain));
            }
            return so;
        })).ToArray()));
        Try(o, "threadStaticFields", () => new JsonArray(type.ThreadStaticFields.Select(f => (JsonNode?)f.Name).ToArray()));
        Try(o, "methods", () => new JsonArray(type.Methods.Select(m => (JsonNode?)Item(() =>
        {
            var mo = new JsonObject { ["methodDesc"] = Hex(m.MethodDesc) };
            Try(mo, "name", () => m.Name);
            Try(mo, "signature", () => m.Signature);
            Try(mo, "metadataToken", () => "0x" + m.MetadataToken.ToString("x8"));
            Try(mo, "nativeCode", () => Hex(m.NativeCode));
            Try(mo, "compilationType", () => m.CompilationType.ToString());
            Try(mo, "attributes", () => "0x" + ((int)m.Attributes).ToString("x"));
            Try(mo, "isConstructor", () => m.IsConstructor);
            Try(mo, "isClassConstructor", () => m.IsClassConstructor);
            return mo;
        })).ToArray()));
        return o;
    }

    static JsonNode Types(ClrRuntime rt, string[] names)
    {
        var list = new JsonArray();
        ClrAppDomain? domain = rt.AppDomains.FirstOrDefault();
        foreach (string name in names)
        {
            var o = new JsonObject { ["query"] = name };
            list.Add(Item(() =>
            {
                var matches = new JsonArray();
                o["matches"] = matches;
                if (name.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                {
                    ClrType? t = rt.GetTypeByMethodTable(ParseAddress(name));
                    if (t is not null) matches.Add(Item(() => Type(t, domain)));
                }
                else
                {
                    // Every module that has a loaded type of that name (name2ee looks in all of them).
                    var seen = new HashSet<ulong>();
                    foreach (ClrModule m in rt.EnumerateModules())
                    {
                        ClrType? t;
                        try { t = m.GetTypeByName(name); }
                        catch { continue; }
                        if (t is not null && seen.Add(t.MethodTable)) matches.Add(Item(() => Type(t, domain)));
                    }
                }
                if (matches.Count == 0) o["error"] = "type not found (or not loaded)";
                return o;
            }, o));
        }
        return new JsonObject { ["types"] = list };
    }

    // ---------------------------------------------------------------- objects

    static JsonNode? Prim(ClrElementType et, Func<object> read)
    {
        object v = read();
        return v switch
        {
            bool b => b,
            char c => (int)c,
            sbyte x => x,
            byte x => x,
            short x => x,
            ushort x => x,
            int x => x,
            uint x => x,
            long x => x.ToString(),
            ulong x => et is ClrElementType.Pointer or ClrElementType.FunctionPointer or ClrElementType.NativeUInt
                ? Hex(x) : x.ToString(),
            nint x => ((long)x).ToString(),
            nuint x => Hex((ulong)x),
            float f => float.IsFinite(f) ? f : f.ToString(),
            double d => double.IsFinite(d) ? d : d.ToString(),
            _ => v.ToString(),
        };
    }

    /// <summary>A primitive of the given element type read from target memory.</summary>
    static JsonNode? PrimAt(IDataReader r, ClrElementType et, ulong at) => et switch
    {
        ClrElementType.Boolean => Prim(et, () => r.Read<byte>(at) != 0),
        ClrElementType.Char => Prim(et, () => r.Read<char>(at)),
        ClrElementType.Int8 => Prim(et, () => r.Read<sbyte>(at)),
        ClrElementType.UInt8 => Prim(et, () => r.Read<byte>(at)),
        ClrElementType.Int16 => Prim(et, () => r.Read<short>(at)),
        ClrElementType.UInt16 => Prim(et, () => r.Read<ushort>(at)),
        ClrElementType.Int32 => Prim(et, () => r.Read<int>(at)),
        ClrElementType.UInt32 => Prim(et, () => r.Read<uint>(at)),
        ClrElementType.Int64 or ClrElementType.NativeInt => Prim(et, () => r.Read<long>(at)),
        ClrElementType.UInt64 or ClrElementType.NativeUInt or ClrElementType.Pointer or ClrElementType.FunctionPointer
            => Prim(et, () => r.Read<ulong>(at)),
        ClrElementType.Float => Prim(et, () => r.Read<float>(at)),
        ClrElementType.Double => Prim(et, () => r.Read<double>(at)),
        _ => null,
    };

    static JsonNode? FieldValue(ClrInstanceField f, ulong obj, bool interior)
    {
        switch (f.ElementType)
        {
            case ClrElementType.Boolean: return Prim(f.ElementType, () => f.Read<bool>(obj, interior));
            case ClrElementType.Char: return Prim(f.ElementType, () => f.Read<char>(obj, interior));
            case ClrElementType.Int8: return Prim(f.ElementType, () => f.Read<sbyte>(obj, interior));
            case ClrElementType.UInt8: return Prim(f.ElementType, () => f.Read<byte>(obj, interior));
            case ClrElementType.Int16: return Prim(f.ElementType, () => f.Read<short>(obj, interior));
            case ClrElementType.UInt16: return Prim(f.ElementType, () => f.Read<ushort>(obj, interior));
            case ClrElementType.Int32: return Prim(f.ElementType, () => f.Read<int>(obj, interior));
            case ClrElementType.UInt32: return Prim(f.ElementType, () => f.Read<uint>(obj, interior));
            case ClrElementType.Int64: return Prim(f.ElementType, () => f.Read<long>(obj, interior));
            case ClrElementType.UInt64: return Prim(f.ElementType, () => f.Read<ulong>(obj, interior));
            case ClrElementType.Float: return Prim(f.ElementType, () => f.Read<float>(obj, interior));
            case ClrElementType.Double: return Prim(f.ElementType, () => f.Read<double>(obj, interior));
            case ClrElementType.NativeInt: return Prim(f.ElementType, () => f.Read<long>(obj, interior));
            case ClrElementType.NativeUInt:
            case ClrElementType.Pointer:
            case ClrElementType.FunctionPointer:
                return Prim(f.ElementType, () => f.Read<ulong>(obj, interior));
        }
        if (f.IsObjectReference)
        {
            ClrObject r = f.ReadObject(obj, interior);
            var o = new JsonObject { ["ref"] = Hex(r.Address) };
            if (!r.IsNull)
            {
                Try(o, "type", () => r.Type?.Name);
                if (r.Type?.IsString == true) Try(o, "string", () => r.AsString(MaxStringChars));
            }
            return o;
        }
        // An embedded value type: where it is (interior), for the caller to read further.
        return new JsonObject { ["valueTypeAddress"] = Hex(f.GetAddress(obj, interior)) };
    }

    static JsonNode Objects(ClrRuntime rt, string[] addrs)
    {
        ClrHeap heap = rt.Heap;
        IDataReader reader = rt.DataTarget.DataReader;
        int pointerSize = reader.PointerSize;
        var list = new JsonArray();
        foreach (string a in addrs)
        {
            var o = new JsonObject { ["query"] = a };
            list.Add(Item(() =>
            {
                ulong addr = ParseAddress(a);
                o["address"] = Hex(addr);
                ClrObject obj = heap.GetObject(addr);
                ClrType? type = obj.Type;
                o["valid"] = obj.IsValid;
                if (type is null)
                {
                    o["error"] = "no object (no valid MethodTable) at this address";
                    return o;
                }
                o["methodTable"] = Hex(type.MethodTable);
                Try(o, "type", () => type.Name);
                Try(o, "size", () => obj.Size);
                Try(o, "isFree", () => obj.IsFree);
                Try(o, "module", () => type.Module?.Name);
                Try(o, "generation", () => heap.GetSegmentByAddress(addr)?.GetGeneration(addr).ToString());
                Try(o, "segment", () => heap.GetSegmentByAddress(addr) is { } s ? Hex(s.Address) : null);
                Try(o, "thinLock", () => obj.GetThinLock() is { } tl
                    ? new JsonObject { ["threadOsId"] = tl.Thread?.OSThreadId, ["threadAddress"] = tl.Thread is null ? null : Hex(tl.Thread.Address), ["recursion"] = tl.Recursion }
                    : null);
                Try(o, "syncBlock", () => obj.SyncBlock is { } sb
                    ? new JsonObject
                    {
                        ["index"] = sb.Index,
                        ["isMonitorHeld"] = sb.IsMonitorHeld,
                        ["holdingThread"] = Hex(sb.HoldingThreadAddress),
                        ["recursionCount"] = sb.RecursionCount,
                        ["waitingThreadCount"] = sb.WaitingThreadCount,
                    }
                    : null);
                if (type.IsString) Try(o, "string", () => obj.AsString(MaxStringChars));
                if (type.IsArray)
                {
                    Try(o, "array", () =>
                    {
                        ClrArray arr = obj.AsArray();
                        var ao = new JsonObject
                        {
                            ["length"] = arr.Length,
                            ["rank"] = arr.Rank,
                            ["componentType"] = type.ComponentType?.Name,
                        };
                        var elems = new JsonArray();
                        int n = Math.Min(arr.Length, MaxArrayElements);
                        if (arr.Rank == 1 && type.ComponentType is { } ct)
                        {
                            for (int i = 0; i < n; i++)
                            {
                                int idx = i;
                                elems.Add(Item(() =>
                                {
                                    if (ct.IsObjectReference)
                                    {
                                        ClrObject e = arr.GetObjectValue(idx);
                                        return new JsonObject { ["ref"] = Hex(e.Address), ["type"] = e.IsNull ? null : e.Type?.Name };
                                    }
                                    ulong at = type.GetArrayElementAddress(addr, idx);
                                    var eo = new JsonObject { ["address"] = Hex(at) };
                                    if (ct.IsPrimitive || ct.ElementType is ClrElementType.Pointer or ClrElementType.FunctionPointer)
                                        Try(eo, "value", () => PrimAt(reader, ct.ElementType, at));
                                    return eo;
                                }));
                            }
                        }
                        ao["elements"] = elems;
                        return ao;
                    });
                }
                var fields = new JsonArray();
                foreach (ClrInstanceField f in type.Fields)
                {
                    var fo = new JsonObject();
                    fields.Add(Item(() =>
                    {
                        fo["name"] = f.Name;
                        Try(fo, "type", () => f.Type?.Name);
                        fo["elementType"] = f.ElementType.ToString();
                        fo["offset"] = f.Offset;
                        fo["objectOffset"] = f.Offset + pointerSize;
                        Try(fo, "token", () => "0x" + f.Token.ToString("x8"));
                        Try(fo, "value", () => FieldValue(f, addr, interior: false));
                        return fo;
                    }, fo));
                }
                o["fields"] = fields;
                return o;
            }, o));
        }
        return new JsonObject { ["objects"] = list };
    }
}
