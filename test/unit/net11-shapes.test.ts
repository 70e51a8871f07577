// The shapes .NET 11 changed, on synthetic runtimes with layouts unlike any real one
// (test/support/descriptor-writer.ts): the thread list that links Thread objects (Thread "c1"),
// the exception in flight as ExInfo.m_exception's address, the AppDomain's AssemblyList of
// Assemblies (no DomainAssembly) with Assembly.IsLoaded, an exception's StackTraceElements, the
// multi-dimensional array rank from BaseSize, and the DebugInfo contract's bounds (nibble-encoded,
// bit-packed) from a hand-encoded blob.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CorruptDataError } from "../../src/errors.js";
import { DebugInfoContract } from "../../src/runtime/contracts/debug-info.js";
import { Loader } from "../../src/runtime/contracts/loader.js";
import { ObjectContract } from "../../src/runtime/contracts/object.js";
import { RuntimeTypeNames, RuntimeTypeSystem, RuntimeTypeSystemDetails } from "../../src/runtime/contracts/runtime-type-system.js";
import { ThreadContract } from "../../src/runtime/contracts/thread.js";
import { boundsChunk, nibblesOf, packNibbles } from "../support/debug-info-writer.js";
import { SyntheticRuntime, warningsOf } from "../support/descriptor-writer.js";

describe(".NET 11 thread list (Thread \"c1\")", () => {
  function runtime(version: number | string) {
    const rt = new SyntheticRuntime();
    rt.type("ThreadStore", ["FirstThreadLink", "ThreadCount:i32", "UnstartedCount:i32", "BackgroundCount:i32", "PendingCount:i32", "DeadCount:i32"]);
    rt.type("Thread", ["Id:u32", "OSId", "State:u32", "PreemptiveGCDisabled:u32", "RuntimeThreadLocals", "Frame", "LinkNext", "LastThrownObject", "ExceptionTracker"], { start: 0x35 });
    rt.type("ExceptionInfo", ["ThrownObject", "PreviousNestedInfo"], { start: 0x2b });
    rt.type("RuntimeThreadLocals", ["AllocContext:inline:48"]);
    rt.type("GCAllocContext", ["Pointer", "Limit"]);
    rt.contract("Thread", version);
    const store = rt.alloc("ThreadStore");
    const threads = [1, 2, 3].map(() => rt.alloc("Thread"));
    threads.forEach((a, i) => rt.fill(a, "Thread", { Id: i + 1, OSId: 0x100 + i, Frame: 2n ** 64n - 1n, LinkNext: threads[i + 1] ?? 0 }));
    rt.fill(store, "ThreadStore", { FirstThreadLink: threads[0]!, ThreadCount: 3 });
    rt.variable("ThreadStore", store);
    rt.variable("FinalizerThread", threads[1]!);
    return { rt, threads };
  }

  test("links hold the Thread objects themselves: every thread, in order, with no warning", () => {
    const { rt, threads } = runtime("c1");
    const { value, warnings } = warningsOf(() => new ThreadContract(rt.target()).threads());
    assert.deepEqual(warnings, []);
    assert.deepEqual(value!.map((t) => [t.address, t.managedId, t.osId]), threads.map((a, i) => [a, i + 1, 0x100 + i]));
  });

  test("read as .NET 10's SList (Thread 1), the same list is damage, not threads", () => {
    const { rt } = runtime(1);
    const { warnings } = warningsOf(() => new ThreadContract(rt.target()).threadAddresses());
    assert.ok(warnings.some((w) => /does not match|lacks the finalizer|cut at/.test(w)), warnings.join("\n"));
  });

  test("the exception in flight: ExInfo.m_exception holds the object, its address is the handle", () => {
    const { rt, threads } = runtime("c1");
    const tracker = rt.fill(rt.alloc("ExceptionInfo"), "ExceptionInfo", { ThrownObject: 0x5a5a_0040_0000 });
    rt.set(threads[0]!, "Thread", "ExceptionTracker", tracker);
    const t = new ThreadContract(rt.target()).threads();
    assert.equal(t[0]!.lastThrownObjectHandle, rt.at(tracker, "ExceptionInfo", "ThrownObject"));
    assert.equal(rt.memory.tryReadPointer(t[0]!.lastThrownObjectHandle), 0x5a5a_0040_0000);
  });
});

describe(".NET 11 assembly list (AppDomain.AssemblyList)", () => {
  test("the list holds Assemblies; IsLoaded replaces the load level; no stub heap is 0", () => {
    const rt = new SyntheticRuntime();
    rt.type("AppDomain", ["AssemblyList:inline:64", "FriendlyName", "RootAssembly"], { start: 0x19 });
    rt.type("ArrayListBase", ["Count:u32", "FirstBlock:inline:40"], { start: 0x7 });
    rt.type("ArrayListBlock", ["Next", "Size:u32", "ArrayStart:inline:32"], { start: 0x3 });
    rt.type("Assembly", ["Module", "IsCollectible:u8", "IsLoaded:u8", "NotifyFlags:u32", "Error"], { start: 0x23 });
    rt.type("LoaderAllocator", ["LowFrequencyHeap", "HighFrequencyHeap"], { start: 0x41 });
    const domain = rt.alloc("AppDomain");
    const assemblies = [rt.alloc("Assembly"), rt.alloc("Assembly")];
    rt.fill(assemblies[0]!, "Assembly", { Module: 0x5a5a_0001_0000, IsLoaded: 1 });
    rt.fill(assemblies[1]!, "Assembly", { Module: 0x5a5a_0002_0000, IsLoaded: 0 });
    const list = rt.at(domain, "AppDomain", "AssemblyList");
    rt.set(list, "ArrayListBase", "Count", 3);
    const block = rt.at(list, "ArrayListBase", "FirstBlock");
    rt.set(block, "ArrayListBlock", "Size", 4);
    const start = rt.at(block, "ArrayListBlock", "ArrayStart");
    [assemblies[0]!, 0, assemblies[1]!].forEach((a, i) => rt.memory.u64(start + i * 8, a));
    rt.variable("AppDomain", domain);
    const loader = new Loader(rt.target());
    assert.deepEqual(loader.assemblies(domain), assemblies, "null slots skipped, Assemblies themselves");
    assert.deepEqual(assemblies.map((a) => loader.assembly(a)).map((a) => [a.module, a.isLoaded, a.level]), [[0x5a5a_0001_0000, true, undefined], [0x5a5a_0002_0000, false, undefined]]);
    const allocator = rt.fill(rt.alloc("LoaderAllocator"), "LoaderAllocator", { LowFrequencyHeap: 0x11, HighFrequencyHeap: 0x22 });
    assert.deepEqual(loader.loaderHeaps(allocator), { lowFrequency: 0x11, highFrequency: 0x22, stub: 0 });
  });
});

describe(".NET 11 object shapes", () => {
  function runtime() {
    const rt = new SyntheticRuntime();
    rt.type("MethodTable", ["MTFlags:u32", "BaseSize:u32", "MTFlags2:u32", "EEClassOrCanonMT", "Module", "ParentMethodTable", "NumInterfaces:u16", "NumVirtuals:u16", "PerInstInfo"], { start: 0x21 });
    rt.type("EEClass", ["MethodTable", "NumMethods:u16", "NumNonVirtualSlots:u16"]);
    rt.type("Object", ["m_pMethTab"], { start: 0x0, size: 8 });
    rt.type("ObjectHeader", ["SyncBlockValue:u32"], { start: 0x4, size: 0x18 });
    rt.type("Array", ["m_NumComponents:u32"], { start: 0xb, size: 0x1d });
    rt.type("StackTraceArrayHeader", ["Size:u32"], { start: 0x5, size: 0x27 });
    rt.type("StackTraceElement", ["Ip", "MethodDesc", "Flags:u32"], { start: 0x9, size: 0x3b });
    rt.global("ObjectToMethodTableUnmask", 7, "uint8");
    rt.global("ArrayBaseSize", 0x33, "uint32");
    rt.contract("Object", "c1");
    const header = rt.size("ObjectHeader");
    const mt = (flags: number, baseSize: number) => {
      const m = rt.alloc("MethodTable");
      const ee = rt.alloc("EEClass");
      rt.fill(m, "MethodTable", { MTFlags: flags, BaseSize: baseSize, EEClassOrCanonMT: ee });
      rt.set(ee, "EEClass", "MethodTable", m);
      return m;
    };
    // System.SByte[] (an SZ array: category bits, component size 1) and a rank-3 array of Int32.
    const bytesMt = mt(0x80000000 | 0x000a0000 | 1, rt.size("Array") + header);
    const rank3Mt = mt(0x80000000 | 0x00080000 | 4, 0x33 + 3 * 8);
    const t = () => rt.target();
    const details = () => new RuntimeTypeSystemDetails(t(), new RuntimeTypeSystem(t()));
    return { rt, header, bytesMt, rank3Mt, objects: () => new ObjectContract(t(), details()), names: () => new RuntimeTypeNames(t(), details()) };
  }

  test("an exception's stack trace: the StackTraceElements after the header in the byte array", () => {
    const { rt, bytesMt, objects } = runtime();
    const headerSize = rt.size("StackTraceArrayHeader");
    const elementSize = rt.size("StackTraceElement");
    const length = headerSize + 2 * elementSize;
    const array = rt.memory.alloc(rt.size("Array") + length + 8, 8);
    rt.set(array, "Object", "m_pMethTab", bytesMt);
    rt.set(array, "Array", "m_NumComponents", length);
    const data = array + rt.size("Array");
    rt.set(data, "StackTraceArrayHeader", "Size", 2);
    rt.fill(data + headerSize, "StackTraceElement", { Ip: 0x5a5a_0000_1234, MethodDesc: 0x5a5a_0000_8000, Flags: 0 });
    rt.fill(data + headerSize + elementSize, "StackTraceElement", { Ip: 0x5a5a_0000_5678, MethodDesc: 0x5a5a_0000_9000, Flags: 3 });
    assert.deepEqual(objects().exceptionStackTrace(array), [
      { ip: 0x5a5a_0000_1234, methodDesc: 0x5a5a_0000_8000, flags: 0 },
      { ip: 0x5a5a_0000_5678, methodDesc: 0x5a5a_0000_9000, flags: 3 },
    ]);
    // A header claiming more frames than the array holds is damage.
    rt.set(data, "StackTraceArrayHeader", "Size", 3);
    assert.throws(() => objects().exceptionStackTrace(array), CorruptDataError);
  });

  test("a multi-dimensional array's rank from its BaseSize when ArrayClass.Rank is gone", () => {
    const { rank3Mt, names } = runtime();
    const shape = names().typeHandleShape(rank3Mt);
    assert.equal(shape.kind, "array");
    assert.equal(shape.kind === "array" && shape.rank, 3);
  });
});

describe("DebugInfo contract: a method's native-to-IL map", () => {
  const entries = [
    { nativeOffset: 0, ilOffset: -2, sourceType: 2 }, // prolog
    { nativeOffset: 0x11, ilOffset: 0, sourceType: 2 },
    { nativeOffset: 0x2c, ilOffset: 0x1f, sourceType: 1 }, // a call
    { nativeOffset: 0x2c, ilOffset: 0x24, sourceType: 0 },
    { nativeOffset: 0x6a, ilOffset: -3, sourceType: 0 }, // epilog
  ];

  function blob(fat: boolean): { rt: SyntheticRuntime; address: number } {
    const boundsBlob = boundsChunk(entries, 7, 6);
    const header = (fat ? [0, boundsBlob.length, 0, 0, 0, 0, 0] : [boundsBlob.length, 0]).flatMap(nibblesOf);
    const bytes = [...packNibbles(header), ...boundsBlob];
    const rt = new SyntheticRuntime();
    rt.contract("DebugInfo", "c1");
    const address = rt.memory.alloc(bytes.length + 8, 1);
    rt.memory.write(address, Uint8Array.from(bytes));
    return { rt, address };
  }

  for (const fat of [false, true]) {
    test(`decodes every entry (${fat ? "fat" : "slim"} header) and maps offsets as the DAC's GetILOffsetsByAddress`, () => {
      const { rt, address } = blob(fat);
      const map = new DebugInfoContract(rt.target()).bounds(address, 0x80);
      assert.deepEqual(map.map((m) => [m.nativeOffset, m.ilOffset, m.sourceType]), entries.map((e) => [e.nativeOffset, e.ilOffset, e.sourceType]));
      assert.deepEqual(DebugInfoContract.ilOffsetsAt(map, 0x5), [-2]);
      assert.deepEqual(DebugInfoContract.ilOffsetsAt(map, 0x2b), [0]);
      // Two entries at one native offset: the later one's range holds it.
      assert.deepEqual(DebugInfoContract.ilOffsetsAt(map, 0x2c), [0x24]);
      assert.deepEqual(DebugInfoContract.ilOffsetsAt(map, 0x70), [-3]);
    });
  }

  test("a map past the method's code is damage, not offsets", () => {
    const { rt, address } = blob(false);
    assert.throws(() => new DebugInfoContract(rt.target()).bounds(address, 0x20), CorruptDataError);
  });
});
