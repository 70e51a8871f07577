// Golden tests of the stack commands' renderers and of pstacks' short names, on hand-written
// results: the layouts dotnet-dump 10.0.750501 prints (as its answers on the test dumps show).
import assert from "node:assert/strict";
import { test } from "node:test";
import { clrStack, type ClrStackResult } from "../../src/commands/sos/clrstack.js";
import { pstacks, type PStacksResult } from "../../src/commands/sos/pstacks.js";
import { shortParameterList } from "../../src/metadata/type-names.js";

test("shortParameterList: namespaces and generic arities go, arrays, pointers, ByRef and nesting stay", () => {
  assert.equal(shortParameterList("()"), "()");
  assert.equal(shortParameterList("(System.String[])"), "(String[])");
  assert.equal(
    shortParameterList("(Int32 ByRef, System.String[], Int32[,], Leaf, Scenarios.Pair`2<Int32,System.String>)"),
    "(Int32 ByRef, String[], Int32[,], Leaf, Pair<Int32,String>)",
  );
  assert.equal(
    shortParameterList("(System.Net.Sockets.SafeSocketHandle, System.Span`1<Byte>, System.Collections.Generic.IList`1<System.ArraySegment`1<Byte>>)"),
    "(SafeSocketHandle, Span<Byte>, IList<ArraySegment<Byte>>)",
  );
  assert.equal(shortParameterList("(Int32, Byte*, IntPtr)"), "(Int32, Byte*, IntPtr)");
  assert.equal(shortParameterList("(Hello.Program+<>c, System.__Canon)"), "(Program+<>c, __Canon)");
});

test("clrstack renders an InlinedCallFrame's two rows as SOS: lower-case IPs, the method after the Frame", () => {
  const frame = (ip: string, method: string | null) => ({
    kind: "frame" as const, sp: "0x7f926effcb80", ip, callSite: `[InlinedCallFrame: 00007f926effcb80]${method ? ` ${method}` : ""}`,
    methodDesc: method ? "0x7f9e77f41234" : null, frameName: "InlinedCallFrame",
  });
  const result: ClrStackResult = {
    walker: "contracts",
    threads: [{
      osId: 0x3eaf, managedId: 7, dbg: 6,
      frames: [
        frame("0x7f9ef66362ec", "Scenarios.Native.read(Int32, Byte*, IntPtr)"),
        frame("0x7f9e77e9b56f", "Scenarios.Native.read(Int32, Byte*, IntPtr)"),
        { kind: "managed", sp: "0x7f926effcb70", ip: "0x7f9e77e9b56f", callSite: "Scenarios.Parking.ReadPipe(Int32)", methodDesc: "0x7f9e77f40000", frameName: null, source: { file: "/src/Program.cs", line: 69 } },
        { kind: "frame", sp: "0x7f926effcdc0", ip: "0x7f9ef63fb3cc", callSite: "[DebuggerU2MCatchHandlerFrame: 00007f926effcdc0]", methodDesc: null, frameName: "DebuggerU2MCatchHandlerFrame" },
      ],
    }],
  };
  assert.equal(clrStack.render(result), [
    "OS Thread Id: 0x3eaf (6)",
    "        Child SP               IP Call Site",
    "00007F926EFFCB80 00007f9ef66362ec [InlinedCallFrame: 00007f926effcb80] Scenarios.Native.read(Int32, Byte*, IntPtr)",
    "00007F926EFFCB80 00007f9e77e9b56f [InlinedCallFrame: 00007f926effcb80] Scenarios.Native.read(Int32, Byte*, IntPtr)",
    "00007F926EFFCB70 00007F9E77E9B56F Scenarios.Parking.ReadPipe(Int32) [/src/Program.cs @ 69]",
    "00007F926EFFCDC0 00007f9ef63fb3cc [DebuggerU2MCatchHandlerFrame: 00007f926effcdc0] ",
  ].join("\n"));
});

test("pstacks renders names (not the merge keys), dotnet-dump's columns and blank lines", () => {
  const node = (frame: string, name: string, threads: number[], children: PStacksResult["roots"] = []) => ({ frame, name, threads, children });
  const result = {
    threadCount: 3,
    allIds: false,
    roots: [
      node("System.Threading.Thread.StartCallback()", "System.Threading.Thread.StartCallback()", [0x10, 0x11, 0x12], [
        node("Scenarios.Program.SleepThread()", "Scenarios.Program.SleepThread()", [0x10, 0x11], [
          node("System.Threading.Thread.Sleep(Int32)", "System.Threading.Thread.Sleep(Int32)", [0x10, 0x11]),
        ]),
        node("ILStubClass.IL_STUB_PInvoke(Int32, Byte*, IntPtr)", "(dynamicClass).IL_STUB_PInvoke(Int32, Byte*, IntPtr)", [0x12]),
      ]),
    ],
  };
  assert.equal(pstacks.render(result), [
    "",
    "________________________________________________",
    "      ~~~~ 12",
    "         1 (dynamicClass).IL_STUB_PInvoke(Int32, Byte*, IntPtr)",
    "      ~~~~ 10,11",
    "         2 System.Threading.Thread.Sleep(Int32)",
    "         2 Scenarios.Program.SleepThread()",
    "    3 System.Threading.Thread.StartCallback()",
    "",
    "",
    "==> 3 threads with 1 roots",
    "",
  ].join("\n"));
});
