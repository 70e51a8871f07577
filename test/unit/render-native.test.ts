// Golden tests of the native (lldb-style) renderers and of help, runtime, threads/setthread, on
// hand-written results: lldb's layouts (`thread list`, `bt`, `register read`, `memory read`,
// `image list`, `image lookup -a`, `disassemble`) and dotnet-dump's `threads`, pushed with unusual
// values (addresses 0 and the largest, unknown locations, stack-scanned frames, empty lists, text
// that needs escaping). No dump is needed: a renderer regression fails here.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeForTerminal } from "../../src/cli/terminal-text.js";
import { helpCommand } from "../../src/commands/help.js";
import { backtrace, type BacktraceResult } from "../../src/commands/native/backtrace.js";
import { disassembleCommand } from "../../src/commands/native/disassemble.js";
import { imageList, type ImageListResult } from "../../src/commands/native/image-list.js";
import { imageLookup } from "../../src/commands/native/image-lookup.js";
import { memoryRead } from "../../src/commands/native/memory-read.js";
import { registerRead } from "../../src/commands/native/register-read.js";
import { status } from "../../src/commands/native/status.js";
import { threadList } from "../../src/commands/native/thread-list.js";
import { setThread, threadSelect } from "../../src/commands/native/thread-select.js";
import { runtimeInfo, type RuntimeInfoResult } from "../../src/commands/runtime-info.js";

describe("thread list / thread select / setthread renderers", () => {
  test("lldb's thread list: the current thread starred, locations with offsets, unknown ones '???', the stop signal", () => {
    const r = {
      pid: 4242,
      threads: [
        { index: 1, tid: 4242, current: true, ip: "0x7f3c5a2e4d7d", signal: "SIGSEGV", module: "libc.so.6", symbol: "__GI___clock_nanosleep", offset: 61 },
        { index: 2, tid: 4243, current: false, ip: "0x55d0c0de1000", signal: null, module: "chains", symbol: null, offset: 0x1000 },
        { index: 10000, tid: 2147483647, current: false, ip: "0x0", signal: null, module: null, symbol: null, offset: null },
        { index: 3, tid: 1, current: false, ip: "0x1fffffffffffff", signal: null, module: "evil\u001b[1m.so", symbol: "f", offset: 0 },
      ],
    };
    assert.equal(escapeForTerminal(threadList.render(r)), [
      "Process 4242 stopped",
      "* thread #1: tid = 4242, 0x00007f3c5a2e4d7d libc.so.6`__GI___clock_nanosleep + 61, stop reason = signal SIGSEGV",
      "  thread #2: tid = 4243, 0x000055d0c0de1000 chains`+0x1000",
      "  thread #10000: tid = 2147483647, 0x0000000000000000 ???",
      "  thread #3: tid = 1, 0x001fffffffffffff evil\\x1b[1m.so`f",
    ].join("\n"));
    assert.equal(threadList.render({ pid: null, threads: [] }), "Process ? stopped");
  });

  test("setthread/threads: dotnet-dump's list (0-based index, hex and decimal tid), the current one starred; thread select: lldb's line", () => {
    const r = { current: { index: 2, tid: 0x3ea9 }, threads: [{ index: 1, tid: 0x3ea4, sosIndex: 0 }, { index: 2, tid: 0x3ea9, sosIndex: 1 }, { index: 3, tid: 7, sosIndex: 2 }, { index: 4, tid: 0x7fffffff, sosIndex: 3 }] };
    assert.equal(setThread.render(r), [" 0 0x3EA4 (16036)", "*1 0x3EA9 (16041)", " 2 0x0007 (7)", " 3 0x7FFFFFFF (2147483647)"].join("\n"));
    assert.equal(setThread.render({ current: { index: 1, tid: 1 }, threads: [] }), "");
    assert.equal(threadSelect.render({ index: 3, tid: 2147483647 }), "* thread #3, tid = 2147483647");
  });
});

describe("bt renderer", () => {
  const frame = (index: number, ip: string, module: string | null, symbol: string | null, offset: number | null, trust: BacktraceResult["threads"][number]["frames"][number]["trust"] = "cfi") => ({ index, ip, sp: "0x7ffd00000000", module, symbol, offset, trust });

  test("lldb's layout: the current thread and its first frame starred, scanned frames marked, why a walk stopped, threads apart", () => {
    const r: BacktraceResult = {
      threads: [
        { index: 1, tid: 4242, current: true, stop: "root", frames: [
          frame(0, "0x7f3c5a2e4d7d", "libc.so.6", "__GI___clock_nanosleep", 61),
          frame(1, "0x7f9e770aa7f1", "System.Private.CoreLib.dll", "System.Threading.Thread.Sleep(Int32)", 0x51),
          frame(2, "0x55d0c0de1234", "chains", null, 0x1234, "scan"),
        ] },
        { index: 2, tid: 4243, current: false, stop: "unreadable-stack" as BacktraceResult["threads"][number]["stop"], frames: [frame(0, "0x0", null, null, null)] },
        { index: 3, tid: 4244, current: false, stop: "frame-limit", frames: [] },
      ],
    };
    assert.equal(backtrace.render(r), [
      "* thread #1, tid = 4242",
      "  * frame #0: 0x00007f3c5a2e4d7d libc.so.6`__GI___clock_nanosleep + 61",
      "    frame #1: 0x00007f9e770aa7f1 System.Private.CoreLib.dll`System.Threading.Thread.Sleep(Int32) + 81",
      "    frame #2: 0x000055d0c0de1234 chains`+0x1234  [found by stack scan]",
      "",
      "  thread #2, tid = 4243",
      "    frame #0: 0x0000000000000000 ???",
      "    (backtrace stopped: unreadable-stack)",
      "",
      "  thread #3, tid = 4244",
    ].join("\n"));
    assert.equal(backtrace.render({ threads: [] }), "");
  });
});

describe("register read, memory read, status renderers", () => {
  test("register read: lldb's right-aligned names", () => {
    assert.equal(registerRead.render({ tid: 1, registers: [{ name: "rip", value: "0x00007f3c5a2e4d7d" }, { name: "fs_base", value: "0x0000000000000000" }, { name: "orig_rax", value: "0xffffffffffffffff" }] }), [
      "General Purpose Registers:",
      "     rip = 0x00007f3c5a2e4d7d",
      " fs_base = 0x0000000000000000",
      "orig_rax = 0xffffffffffffffff",
    ].join("\n"));
  });

  test("memory read: bytes with their characters (non-printable as '.'), words, chars and strings", () => {
    const bytes = Buffer.from("Hello, \u0000\u001b\u007fworld!!!\u00ff", "latin1");
    const items = [...bytes].map((b) => "0x" + b.toString(16).padStart(2, "0"));
    assert.equal(memoryRead.render({ address: "0x7ffd0000fff0", size: 1, format: "x", items, bytes: bytes.toString("hex") }), [
      "0x00007ffd0000fff0: 48 65 6c 6c 6f 2c 20 00 1b 7f 77 6f 72 6c 64 21  Hello, ...world!",
      "0x00007ffd00010000: 21 21 ff" + " ".repeat(39) + "  !!.",
    ].join("\n"));
    assert.equal(memoryRead.render({ address: "0x0", size: 8, format: "x", items: ["0x0000000000000000", "0xffffffffffffffff", "0x0000000000000001"] }), [
      "0x0000000000000000: 0x0000000000000000 0xffffffffffffffff",
      "0x0000000000000010: 0x0000000000000001",
    ].join("\n"));
    assert.equal(memoryRead.render({ address: "0x1000", size: 4, format: "d", items: ["-1", "2147483647", "0", "7", "8"] }), ["0x0000000000001000: -1 2147483647 0 7", "0x0000000000001010: 8"].join("\n"));
    assert.equal(escapeForTerminal(memoryRead.render({ address: "0x1000", size: 1, format: "s", items: ["first", "", "esc\u001b]52;c;x\u0007"] })), ['"first"', '""', '"esc\\x1b]52;c;x\\x07"'].join("\n"));
    assert.equal(memoryRead.render({ address: "0x1000", size: 1, format: "x", items: [], bytes: "" }), "");
  });

  test("status: the core, its process and signal, the runtime (found, unreadable, none)", () => {
    const r = { file: "/tmp/core.4242", process: "dotnet", pid: 4242, commandLine: "dotnet app.dll --flag", signal: { number: 6, name: "SIGABRT" }, threads: 18, modules: 37, runtime: { path: "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so", version: "10.0.12" }, warnings: [] };
    assert.equal(status.render(r), [
      "Core file '/tmp/core.4242' (x86_64): process 'dotnet' pid 4242, 18 threads, 37 native modules",
      "  command line: dotnet app.dll --flag",
      "  signal: SIGABRT (6)",
      "  .NET runtime: libcoreclr.so 10.0.12 (/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so)",
    ].join("\n"));
    assert.equal(status.render({ ...r, pid: null, commandLine: null, signal: null, runtime: null, runtimeUnreadable: { path: "/x/libcoreclr.so", missing: [] } }), "Core file '/tmp/core.4242' (x86_64): process 'dotnet', 18 threads, 37 native modules\n  .NET runtime: /x/libcoreclr.so is loaded but unreadable here (see the warning)");
    assert.equal(status.render({ ...r, runtime: null, commandLine: null, signal: null }).split("\n")[1], "  .NET runtime: none (no libcoreclr.so loaded)");
    assert.equal(status.render({ ...r, runtime: { path: "/x/libcoreclr.so", version: null }, commandLine: null, signal: null }).split("\n")[1], "  .NET runtime: libcoreclr.so (version unknown) (/x/libcoreclr.so)");
  });
});

describe("image list, image lookup, disassemble renderers", () => {
  const images: ImageListResult["images"] = [
    { index: 0, name: "chains", path: "/tmp/chains", base: "0x55d0c0de0000", end: "0x55d0c0de5000", buildId: "0123456789abcdef0123456789abcdef01234567", file: "verified", foundBy: ["build-id"] },
    { index: 123, name: "libgone.so", path: "/tmp/libgone.so (deleted)", base: "0x7f0000000000", end: "0x7f0000001000", buildId: null, file: "missing", foundBy: [], symbols: { source: "none", from: null, count: 0 } },
  ];

  test("image list: index, build-id (upper case, padded), base, path; -v: each file's check and symbols, then every mapped file", () => {
    assert.equal(imageList.render({ images }), [
      "[  0] 0123456789ABCDEF0123456789ABCDEF01234567 0x000055d0c0de0000 /tmp/chains",
      "[123]                                          0x00007f0000000000 /tmp/libgone.so (deleted)",
      "      file: missing; found by: ; no symbols",
    ].join("\n"));
    const verbose = imageList.render({
      images: [{ ...images[0]!, symbols: { source: "debuglink", from: "/usr/lib/debug/.build-id/01/23.debug", count: 1234 } }],
      mappedFiles: [
        { path: "/app/app.dll", resolvedPath: "/app/app.dll", file: "matched", reason: null },
        { path: "/proc/1/root/app/lib.dll", resolvedPath: "/app/lib.dll", file: "matched", reason: null },
        { path: "/gone.dll", resolvedPath: null, file: "missing", reason: "no such file" },
      ],
    });
    assert.equal(verbose, [
      "[  0] 0123456789ABCDEF0123456789ABCDEF01234567 0x000055d0c0de0000 /tmp/chains",
      "      file: verified; found by: build-id; 1234 symbols from debuglink (/usr/lib/debug/.build-id/01/23.debug)",
      "",
      "Mapped files (pages the dump lacks are read from files verified by their headers, or for PE files without one by size and sections):",
      "  matched      /app/app.dll",
      "  matched      /proc/1/root/app/lib.dll (read from /app/lib.dll)",
      "  missing      /gone.dll (no such file)",
    ].join("\n"));
    assert.equal(imageList.render({ images: [] }), "");
  });

  test("image lookup -a: module and offset, managed code, no module; where the bytes come from", () => {
    assert.equal(imageLookup.render({ address: "0x55d0c0de1234", module: "chains", symbol: "park_here", offset: 4, moduleOffset: 0x1234, path: "/tmp/chains", memory: "file" }), [
      "      Address: chains[0x0000000000001234] (/tmp/chains)",
      "      Summary: chains`park_here + 4",
      "       Memory: from the file on disk",
    ].join("\n"));
    assert.equal(imageLookup.render({ address: "0x7f9e77e97b10", module: "scenarios.dll", symbol: "Scenarios.Parking.SleepWithArgs(Int32 ByRef)", offset: 0, moduleOffset: null, path: null, memory: "dump" }).split("\n")[0], "      Address: 0x7f9e77e97b10 (managed code in scenarios.dll)");
    assert.equal(imageLookup.render({ address: "0x0", module: null, symbol: null, offset: null, moduleOffset: null, path: null, memory: "missing" }), "      Address: 0x0 is not in any module (memory: missing)");
  });

  test("disassemble: the function's name, offsets, the current instruction arrowed, branch targets named", () => {
    const r = {
      function: "chains`park_here",
      pc: "0x55d0c0de1238",
      instructions: [
        { address: "0x55d0c0de1234", offset: 0, bytes: "55", text: "push rbp", target: null, current: false },
        { address: "0x55d0c0de1235", offset: 1, bytes: "e8 00 00 00 00", text: "call 0x55d0c0de123a", target: "chains`helper", current: false },
        { address: "0x55d0c0de1238", offset: 4, bytes: "eb fe", text: "jmp 0x55d0c0de1238", target: "???", current: true },
      ],
    };
    assert.equal(disassembleCommand.render(r), [
      "chains`park_here:",
      "    0x55d0c0de1234 <+0>: push rbp",
      "    0x55d0c0de1235 <+1>: call 0x55d0c0de123a ; chains`helper",
      "->  0x55d0c0de1238 <+4>: jmp 0x55d0c0de1238",
    ].join("\n"));
    assert.equal(disassembleCommand.render({ function: null, pc: null, instructions: [{ address: "0x0", offset: null, bytes: "90", text: "nop", target: null, current: false }] }), "    0x0: nop");
    assert.equal(disassembleCommand.render({ function: null, pc: null, instructions: [] }), "");
  });
});

/** help over no command table: the renderer only reads the result. */
const help = helpCommand({ commands: () => [], find: () => { throw new Error("not used by render"); } });

describe("help and runtime renderers", () => {
  const commands = [
    { names: ["clrthreads"], usage: "clrthreads [-live]", summary: "SOS: managed threads" },
    { names: ["dumpobj", "do"], usage: "dumpobj ADDRESS", summary: "SOS: an object's fields" },
    { names: ["bt", "thread backtrace"], usage: "bt [all] [-c COUNT]", summary: "Native backtrace" },
  ];

  test("help: usage and summary in two columns, aliases named, exit last; one command: its summary, usage and aliases", () => {
    assert.equal(help.render({ commands, all: true }), [
      "  clrthreads [-live]   SOS: managed threads",
      "  dumpobj ADDRESS      SOS: an object's fields (also: do)",
      "  bt [all] [-c COUNT]  Native backtrace (also: thread backtrace)",
      "  exit                 Leave the session (also: quit, q)",
    ].join("\n"));
    assert.equal(help.render({ commands: [commands[1]!], all: false }), "SOS: an object's fields\nusage: dumpobj ADDRESS\naliases: do");
    assert.equal(help.render({ commands: [commands[0]!], all: false }), "SOS: managed threads\nusage: clrthreads [-live]");
    // `help thread`: the commands under a first word, in two columns, without exit.
    assert.equal(help.render({ commands: [commands[2]!, { names: ["thread list"], usage: "thread list", summary: "Threads" }], all: false }), [
      "  bt [all] [-c COUNT]  Native backtrace (also: thread backtrace)",
      "  thread list          Threads",
    ].join("\n"));
  });

  test("runtime: the version, which backends answer and why not, the contracts; -v every type layout and global", () => {
    const r: RuntimeInfoResult = {
      version: "10.0.12", libcoreclr: "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so", descriptorAddress: "0x7f9ef6a1b2c0", backend: "contracts", verbose: false,
      contracts: [{ name: "Loader", version: 1 }, { name: "Thread", version: 1 }],
      types: [{ name: "Thread", size: 0x3c8, fields: [{ name: "Id", offset: 0x8, type: "uint32" }, { name: "LinkNext", offset: 0x1a0 }] }, { name: "Unsized", fields: [] }],
      globals: [{ name: "ThreadStore", value: "0x7f9ef6a4c2f0", type: "pointer", indirect: true }, { name: "RuntimeId", string: "net\u001b", indirect: false }],
      dac: { active: true, path: "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libmscordaccore.so", source: "beside the runtime (build-id matches)", initMs: 41, version: "10.0.1226.42308" },
      requestedBackend: "auto",
      typeCommands: { backend: "contracts" },
    };
    assert.equal(runtimeInfo.render(r), [
      ".NET runtime 10.0.12: /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so",
      "Backend: contracts (data-contract descriptor at 0x00007f9ef6a1b2c0)",
      "Backend: dac (/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libmscordaccore.so, beside the runtime (build-id matches), build 10.0.1226.42308, ready in 41 ms, in a host process)",
      "Type commands (dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule): contracts",
      "Contracts: Loader 1, Thread 1",
    ].join("\n"));
    assert.equal(escapeForTerminal(runtimeInfo.render({ ...r, verbose: true })).split("\n").slice(5).join("\n"), [
      "",
      "Types:",
      "  Thread (size 968)",
      "    +0x008 Id : uint32",
      "    +0x1a0 LinkNext",
      "  Unsized",
      "",
      "Globals:",
      "  ThreadStore = 0x7f9ef6a4c2f0 : pointer (address)",
      "  RuntimeId = net\\x1b",
    ].join("\n"));
    const net8: RuntimeInfoResult = { ...r, version: undefined, backend: "dac", descriptorAddress: null, contracts: [], dac: { active: false, error: "no DAC beside the runtime" }, typeCommands: { error: "no descriptor and no DAC" } };
    assert.equal(runtimeInfo.render(net8), [
      ".NET runtime (version unknown): /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so",
      "Backend: contracts not active: this runtime publishes no data-contract descriptor",
      "Backend: dac not active: no DAC beside the runtime",
      "Type commands (dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule): no backend: no descriptor and no DAC",
    ].join("\n"));
    assert.equal(runtimeInfo.render({ ...net8, requestedBackend: "dac", typeCommands: { backend: "dac", reason: "--backend dac" } }).split("\n").slice(1, 4).join("\n"), [
      "Backend: contracts not used (--backend dac)",
      "Backend: dac not active: no DAC beside the runtime",
      "Type commands (dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule): dac (--backend dac)",
    ].join("\n"));
  });
});
