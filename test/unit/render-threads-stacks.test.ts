// Golden tests of the clrthreads, clrstack and pstacks renderers on hand-written results: the
// text is SOS's (dotnet-dump 10.0.750501) layout. Rows marked "SOS" are copied verbatim from
// dotnet-dump's answers on the scenarios dump (~/.cache/clrscope-tests/dotnet-dump/*/core.sos-*.json);
// the others push the layout with unusual values (no debugger index, the largest addresses and
// ids, empty lists, target strings that need escaping on a terminal). No dump is needed: a
// renderer regression fails here.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeForTerminal } from "../../src/cli/terminal-text.js";
import { clrStack, type ClrStackResult } from "../../src/commands/sos/clrstack.js";
import { clrThreads, type ClrThreadsResult } from "../../src/commands/sos/clrthreads.js";
import { pstacks, type StackNode } from "../../src/commands/sos/pstacks.js";

/** What the CLI prints for a text result (output.ts writeResult): the rendering, escaped for the terminal. */
const shown = (text: string): string => escapeForTerminal(text);

type ThreadRow = ClrThreadsResult["threads"][number];
const thread = (over: Partial<ThreadRow>): ThreadRow => ({
  dbg: 0, managedId: 1, osId: 0x3ea4, address: "0x55e355c2af40", state: "0x2020020", gcMode: "Preemptive",
  allocContext: { pointer: "0x0", limit: "0x0" }, domain: "0x55e355c05920", background: false, threadPoolWorker: false,
  finalizer: false, gc: false, lastThrownObjectHandle: null, exception: null, nestedExceptions: false, ...over,
});

describe("clrthreads renderer", () => {
  const header = [
    "ThreadCount:      18",
    "UnstartedThread:  0",
    "BackgroundThread: 16",
    "PendingThread:    0",
    "DeadThread:       0",
    "Hosted Runtime:   no",
    "                                                                                                            Lock  ",
    " DBG   ID     OSID ThreadOBJ           State GC Mode     GC Alloc Context                  Domain           Count Apt Exception",
  ];
  const counts = { threadCount: 18, unstarted: 0, background: 16, pending: 0, dead: 0 };

  test("SOS's rows: a thread with an allocation context, the finalizer, a threadpool worker, an exception with nested ones", () => {
    const r: ClrThreadsResult = {
      backend: "contracts",
      counts,
      threads: [
        thread({ allocContext: { pointer: "0x7f929fcdedc8", limit: "0x7f929fcdfc40" } }),
        thread({ dbg: 5, managedId: 2, osId: 0x3ea9, address: "0x55e355c2d820", state: "0x21220", allocContext: { pointer: "0x7f929fc2b2f8", limit: "0x7f929fc2d090" }, finalizer: true }),
        thread({ dbg: 14, managedId: 11, osId: 0x3eb2, address: "0x7f925c002260", state: "0x1021220", threadPoolWorker: true }),
        thread({ dbg: 21, managedId: 18, osId: 0x3eba, address: "0x55e355f71ec0", state: "0x2021220", lastThrownObjectHandle: "0x7f929d000100", exception: { address: "0x7f929d015c78", type: "System.InvalidOperationException" }, nestedExceptions: true }),
      ],
    };
    assert.equal(clrThreads.render(r), [
      ...header,
      "   0    1     3ea4 000055E355C2AF40  2020020 Preemptive  00007F929FCDEDC8:00007F929FCDFC40 000055E355C05920 -00001 Ukn ", // SOS
      "   5    2     3ea9 000055E355C2D820    21220 Preemptive  00007F929FC2B2F8:00007F929FC2D090 000055E355C05920 -00001 Ukn (Finalizer) ", // SOS
      "  14   11     3eb2 00007F925C002260  1021220 Preemptive  0000000000000000:0000000000000000 000055E355C05920 -00001 Ukn (Threadpool Worker) ", // SOS
      "  21   18     3eba 000055E355F71EC0  2021220 Preemptive  0000000000000000:0000000000000000 000055E355C05920 -00001 Ukn System.InvalidOperationException 00007f929d015c78 (nested exceptions)", // SOS
    ].join("\n"));
  });

  test("unusual rows: no debugger index, the largest values, every note at once, an exception type that needs escaping", () => {
    const r: ClrThreadsResult = {
      backend: "dac",
      counts: { threadCount: 2_147_483_647, unstarted: 0, background: 0, pending: 1, dead: 12345 },
      threads: [
        thread({
          dbg: null, managedId: 65535, osId: 0xffffffff, address: "0x1fffffffffffff", state: "0xffffffff", gcMode: "Cooperative",
          allocContext: { pointer: "0x7ffffffff000", limit: "0x7fffffffffff" }, domain: "0x0", finalizer: true, gc: true, threadPoolWorker: true,
          exception: { address: "0x10", type: "Evil\u001b[2JException" },
        }),
        thread({ dbg: 1234, managedId: 0, osId: 0, address: "0x0", state: "0x0" }),
      ],
    };
    const text = clrThreads.render(r);
    assert.equal(shown(text), [
      "ThreadCount:      2147483647",
      "UnstartedThread:  0",
      "BackgroundThread: 0",
      "PendingThread:    1",
      "DeadThread:       12345",
      ...header.slice(5),
      "XXXX 65535 ffffffff 001FFFFFFFFFFFFF ffffffff Cooperative 00007FFFFFFFF000:00007FFFFFFFFFFF 0000000000000000 -00001 Ukn (Finalizer) (GC) (Threadpool Worker) Evil\\x1b[2JException 0000000000000010",
      "1234    0        0 0000000000000000        0 Preemptive  0000000000000000:0000000000000000 000055E355C05920 -00001 Ukn ",
    ].join("\n"));
  });

  test("no managed threads: the counts and the column header only", () => {
    assert.equal(clrThreads.render({ backend: "contracts", counts: { threadCount: 0, unstarted: 0, background: 0, pending: 0, dead: 0 }, threads: [] }).split("\n").length, 8);
  });
});

type Frame = ClrStackResult["threads"][number]["frames"][number];
const managed = (sp: string, ip: string, callSite: string, extra: Partial<Frame> = {}): Frame => ({ kind: "managed", sp, ip, callSite, methodDesc: "0x7f9e77f4ab10", frameName: null, ...extra });
const explicit = (sp: string, ip: string, name: string, methodDesc: string | null = null, callSite?: string): Frame => ({
  kind: "frame", sp, ip, callSite: callSite ?? `[${name}: ${sp.slice(2).padStart(16, "0")}]`, methodDesc, frameName: name,
});
const SOURCE = "/root/.cache/clrscope-tests/dotnet-build/ff5d1b82b335f9f8/src/Program.cs";

describe("clrstack renderer", () => {
  test("one thread: SOS's header with the debugger index, explicit Frames with their trailing blank, managed frames in upper case, source lines", () => {
    const r: ClrStackResult = {
      walker: "contracts",
      threads: [{
        osId: 0x3eac, managedId: 5, dbg: 8, frames: [
          explicit("0x7f927cdfdb20", "0x7f9ef65c3f16", "InlinedCallFrame"),
          managed("0x7f927cdfdb10", "0x7f9e770aa7f1", "System.Threading.Thread.Sleep(Int32)"),
          managed("0x7f927cdfdbb0", "0x7f9e77e97bac", "Scenarios.Parking.SleepWithArgs(Int32 ByRef, System.String[], Int32[,], Leaf, Scenarios.Pair`2<Int32,System.String>)", { source: { file: SOURCE, line: 47 } }),
          managed("0x7f927cdfdc20", "0x7f9e770a9756", "System.Threading.Thread.StartCallback()"),
          explicit("0x7f927cdfddc0", "0x7f9ef63fb3cc", "DebuggerU2MCatchHandlerFrame"),
        ],
      }],
    };
    assert.equal(clrStack.render(r), [
      "OS Thread Id: 0x3eac (8)",
      "        Child SP               IP Call Site",
      "00007F927CDFDB20 00007f9ef65c3f16 [InlinedCallFrame: 00007f927cdfdb20] ", // SOS
      "00007F927CDFDB10 00007F9E770AA7F1 System.Threading.Thread.Sleep(Int32)", // SOS
      `00007F927CDFDBB0 00007F9E77E97BAC Scenarios.Parking.SleepWithArgs(Int32 ByRef, System.String[], Int32[,], Leaf, Scenarios.Pair\`2<Int32,System.String>) [${SOURCE} @ 47]`, // SOS
      "00007F927CDFDC20 00007F9E770A9756 System.Threading.Thread.StartCallback()", // SOS
      "00007F927CDFDDC0 00007f9ef63fb3cc [DebuggerU2MCatchHandlerFrame: 00007f927cdfddc0] ", // SOS
    ].join("\n"));
  });

  test("-all: 'OS Thread Id' without the index, threads back to back; a thread not in the dump; an empty stack; a Frame naming its method", () => {
    const r: ClrStackResult = {
      walker: "dac",
      note: "parameters and locals need the runtime's DAC: no DAC",
      threads: [
        { osId: 0x3ea9, managedId: 2, dbg: null, frames: [explicit("0x7f9e74cfedf0", "0x7f9ef65c3f16", "DebuggerU2MCatchHandlerFrame")] },
        { osId: 0xffffffff, managedId: 3, dbg: null, frames: [] },
        { osId: 1, managedId: 4, dbg: 0, frames: [
          explicit("0x7ffd476e21a0", "0x0", "InlinedCallFrame", "0x7f9e77f4ab10", "[InlinedCallFrame: 00007ffd476e21a0] Interop+Sys.Read(SafeHandle, Byte*, Int32)"),
          managed("0x0", "0x1fffffffffffff", "<MethodDesc 0x7f9e77f4ab10>"),
        ] },
      ],
    };
    assert.equal(clrStack.render(r), [
      "parameters and locals need the runtime's DAC: no DAC",
      "OS Thread Id: 0x3ea9",
      "        Child SP               IP Call Site",
      "00007F9E74CFEDF0 00007f9ef65c3f16 [DebuggerU2MCatchHandlerFrame: 00007f9e74cfedf0] ", // SOS
      "OS Thread Id: 0xffffffff",
      "        Child SP               IP Call Site",
      "OS Thread Id: 0x1",
      "        Child SP               IP Call Site",
      "00007FFD476E21A0 0000000000000000 [InlinedCallFrame: 00007ffd476e21a0] Interop+Sys.Read(SafeHandle, Byte*, Int32)",
      "0000000000000000 001FFFFFFFFFFFFF <MethodDesc 0x7f9e77f4ab10>",
    ].join("\n"));
    assert.equal(clrStack.render({ walker: "contracts", threads: [{ osId: 0x10, managedId: 1, dbg: null, frames: [] }] }), "OS Thread Id: 0x10 (XXXX)\n        Child SP               IP Call Site");
  });

  test("-a: PARAMETERS and LOCALS blocks in SOS's forms (stack slot, <CLR reg>, <no data>, unnamed locals), a blank line after each frame", () => {
    const r: ClrStackResult = {
      walker: "contracts",
      threads: [{
        osId: 0x3eac, managedId: 5, dbg: 8, frames: [
          managed("0x7f927cdfdbb0", "0x7f9e77e97bac", "Scenarios.Parking.SleepWithArgs(Int32 ByRef)", {
            parameters: [
              { name: "value", location: "0x7f927cdfdbf8", value: "0x00007f927cdfdc3c", bytes: "3cdc7f927f000000" },
              { name: "this", location: "<CLR reg>", value: "0x0000000000000000", bytes: "0000000000000000" },
              { name: "missing", location: null, value: null, bytes: null },
            ],
            locals: [
              { name: null, location: "0x7f927cdfdb98", value: "0x0000000000000001", bytes: "01" },
              { name: null, location: "<CLR reg>", value: null, bytes: null },
              { name: "fromPdb", location: "0x7f927cdfdb90", value: "0xffffffffffffffff", bytes: "ffffffffffffffff" },
              { name: null, location: null, value: null, bytes: null },
            ],
          }),
          managed("0x7f927cdfdc20", "0x7f9e770a9756", "System.Threading.Thread.StartCallback()", { parameters: [], locals: [] }),
        ],
      }],
    };
    assert.equal(clrStack.render(r), [
      "OS Thread Id: 0x3eac (8)",
      "        Child SP               IP Call Site",
      "00007F927CDFDBB0 00007F9E77E97BAC Scenarios.Parking.SleepWithArgs(Int32 ByRef)",
      "    PARAMETERS:",
      "        value (0x00007F927CDFDBF8) = 0x00007f927cdfdc3c",
      "        this (<CLR reg>) = 0x0000000000000000",
      "        missing = <no data>",
      "    LOCALS:",
      "        0x00007F927CDFDB98 = 0x0000000000000001",
      "        <CLR reg> = <no data>",
      "        fromPdb (0x00007F927CDFDB90) = 0xffffffffffffffff",
      "        <no data>",
      "",
      "00007F927CDFDC20 00007F9E770A9756 System.Threading.Thread.StartCallback()",
    ].join("\n"));
  });
});

describe("pstacks renderer", () => {
  /** A node whose dotnet-dump name is its frame, or `name` when given. */
  const node = (frame: string, threads: number[], children: StackNode[] = [], name = frame): StackNode => ({ frame, name, threads, children });

  test("dotnet-dump's trees: roots, leaves headed by '~~~~ ids', 5 blanks per level, right-aligned counts, blank lines", () => {
    const main = node("Scenarios.Program.Main(String[])", [0x3ea4], [node("System.Threading.Thread.Sleep(Int32)", [0x3ea4])]);
    const start = node("System.Threading.Thread.StartCallback()", [0x3eab, 0x3eac], [
      node("Scenarios.Program.MonitorThread()", [0x3eab], [node("Scenarios.Parking.WaitOnMonitor(Object)", [0x3eab], [node("System.Threading.Monitor.Wait(Object, Int32)", [0x3eab])])]),
      node("Scenarios.Program.SleepThread()", [0x3eac], [node("System.Threading.Thread.Sleep(Int32)", [0x3eac])]),
    ]);
    assert.equal(pstacks.render({ roots: [main, start], threadCount: 3, allIds: false }), [
      "",
      "________________________________________________",
      " ~~~~ 3ea4", // SOS
      "    1 System.Threading.Thread.Sleep(Int32)", // SOS
      "    1 Scenarios.Program.Main(String[])", // SOS
      "",
      "",
      "________________________________________________",
      "      ~~~~ 3eab", // SOS
      "         1 System.Threading.Monitor.Wait(Object, Int32)", // SOS
      "         1 Scenarios.Parking.WaitOnMonitor(Object)", // SOS
      "         1 Scenarios.Program.MonitorThread()", // SOS
      "      ~~~~ 3eac",
      "         1 System.Threading.Thread.Sleep(Int32)",
      "         1 Scenarios.Program.SleepThread()",
      "    2 System.Threading.Thread.StartCallback()",
      "",
      "",
      "==> 3 threads with 2 roots",
      "",
    ].join("\n"));
  });

  test("more threads than the ids shown: four ids and '...', all with -a; counts wider than the column; no stacks at all", () => {
    const ids = [1, 2, 0xa, 0xffffffff, 0x7fff_0000];
    const wide = Array.from({ length: 123456 }, (_, i) => i + 1);
    const roots = [node("Wait()", ids), node("Spin()", wide)];
    const text = pstacks.render({ roots, threadCount: ids.length + wide.length, allIds: false });
    assert.ok(text.includes("\n ~~~~ 1,2,a,ffffffff...\n    5 Wait()\n"), text.slice(0, 200));
    assert.ok(text.includes("\n ~~~~ 1,2,3,4...\n123456 Spin()\n"));
    assert.ok(pstacks.render({ roots, threadCount: 5, allIds: true }).includes("\n ~~~~ 1,2,a,ffffffff,7fff0000\n"));
    assert.equal(pstacks.render({ roots: [], threadCount: 0, allIds: false }), "\n==> 0 threads with 0 roots\n");
  });
});
