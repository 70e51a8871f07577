// The Thread contract and the explicit Frame chain on a synthetic runtime whose layouts are unlike
// any real one (test/support/descriptor-writer.ts): every field must come from the descriptor.
// Damaged thread lists (loops, cut links, counts that contradict the list) give warnings and the
// threads before the damage, never a hang or a silent wrong count.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ThreadStateFlags } from "../../src/runtime/clr-runtime.js";
import { FrameChain } from "../../src/runtime/contracts/frames.js";
import { ThreadContract } from "../../src/runtime/contracts/thread.js";
import { MissingRuntimeDataError } from "../../src/runtime/contracts/descriptor.js";
import { SyntheticRuntime, warningsOf } from "../support/descriptor-writer.js";

interface ThreadSpec {
  id: number;
  osId: number;
  state?: number;
  coop?: boolean;
  alloc?: [number, number];
  lastThrown?: number;
  frame?: number;
}

/** A runtime with a thread store listing `threads` in order (the finalizer is the second, the GC thread none). */
function runtimeWith(threads: ThreadSpec[], opts: { eeAllocContext?: boolean; exceptionTracker?: boolean; counts?: Partial<Record<string, number>> } = {}) {
  const rt = new SyntheticRuntime();
  rt.type("ThreadStore", ["FirstThreadLink", "ThreadCount:i32", "UnstartedCount:i32", "BackgroundCount:i32", "PendingCount:i32", "DeadCount:i32"]);
  const threadFields = ["Id:u32", "OSId", "State:u32", "PreemptiveGCDisabled:u32", "RuntimeThreadLocals", "Frame", "LinkNext", "LastThrownObject"];
  if (opts.exceptionTracker) threadFields.push("ExceptionTracker");
  rt.type("Thread", threadFields, { start: 0x101 });
  if (opts.eeAllocContext) {
    rt.type("RuntimeThreadLocals", ["AllocContext:inline:96"]);
    rt.type("EEAllocContext", ["Other:u32", "GCAllocationContext:inline:48"]);
  } else {
    rt.type("RuntimeThreadLocals", ["AllocContext:inline:48"]);
  }
  rt.type("GCAllocContext", ["Pointer", "Limit", "AllocBytes:u64"]);
  rt.type("ExceptionInfo", ["ThrownObject", "PreviousNestedInfo"]);
  rt.contract("Thread", 1);
  const store = rt.alloc("ThreadStore");
  const addresses = threads.map(() => rt.alloc("Thread"));
  addresses.forEach((a, i) => {
    const s = threads[i]!;
    const locals = rt.alloc("RuntimeThreadLocals");
    let ctx = rt.at(locals, "RuntimeThreadLocals", "AllocContext");
    if (opts.eeAllocContext) ctx = rt.at(ctx, "EEAllocContext", "GCAllocationContext");
    rt.fill(ctx, "GCAllocContext", { Pointer: s.alloc?.[0] ?? 0, Limit: s.alloc?.[1] ?? 0 });
    rt.fill(a, "Thread", {
      Id: s.id, OSId: s.osId, State: s.state ?? 0, PreemptiveGCDisabled: s.coop ? 1 : 0, RuntimeThreadLocals: locals,
      Frame: s.frame ?? 2n ** 64n - 1n, LastThrownObject: s.lastThrown ?? 0,
      LinkNext: i + 1 < addresses.length ? rt.at(addresses[i + 1]!, "Thread", "LinkNext") : 0,
    });
  });
  const count = (flag: number) => threads.filter((t) => ((t.state ?? 0) & flag) !== 0).length;
  rt.fill(store, "ThreadStore", {
    FirstThreadLink: addresses.length ? rt.at(addresses[0]!, "Thread", "LinkNext") : 0,
    ThreadCount: opts.counts?.ThreadCount ?? threads.length,
    UnstartedCount: opts.counts?.UnstartedCount ?? count(ThreadStateFlags.Unstarted),
    BackgroundCount: count(ThreadStateFlags.Background),
    PendingCount: 0,
    DeadCount: opts.counts?.DeadCount ?? count(ThreadStateFlags.Dead),
  });
  rt.variable("ThreadStore", store);
  rt.variable("FinalizerThread", addresses[1] ?? 0);
  rt.variable("GCThread", 0);
  return { rt, store, addresses };
}

const THREADS: ThreadSpec[] = [
  { id: 1, osId: 0x7fff_1234, coop: true, alloc: [0x5a5a_0010_0000, 0x5a5a_0010_2000] },
  { id: 2, osId: 0x12, state: ThreadStateFlags.Background, lastThrown: 0x5a5a_0020_0008 },
  { id: 0xfffe, osId: 0, state: ThreadStateFlags.Unstarted | ThreadStateFlags.Background },
  { id: 7, osId: 0, state: ThreadStateFlags.Dead },
];

describe("Thread contract", () => {
  test("the thread store's threads in list order, with every field from the descriptor's layout", () => {
    const { rt, addresses } = runtimeWith(THREADS);
    const { value, warnings } = warningsOf(() => {
      const c = new ThreadContract(rt.target());
      return { threads: c.threads(), counts: c.counts() };
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(value!.counts, { threadCount: 4, unstarted: 1, background: 2, pending: 0, dead: 1 });
    const t = value!.threads;
    assert.deepEqual(t.map((x) => x.address), addresses);
    assert.deepEqual(t.map((x) => [x.managedId, x.osId, x.state]), THREADS.map((s) => [s.id, s.osId, s.state ?? 0]));
    assert.deepEqual(t[0]!.allocContext, { pointer: 0x5a5a_0010_0000, limit: 0x5a5a_0010_2000 });
    assert.deepEqual(t.map((x) => x.preemptiveGCDisabled), [true, false, false, false]);
    assert.deepEqual(t.map((x) => x.isFinalizer), [false, true, false, false]);
    assert.ok(t.every((x) => !x.isGC));
    assert.equal(t[0]!.frame, 0, "FRAME_TOP (all bits set) is no Frame");
    assert.equal(t[1]!.lastThrownObjectHandle, 0x5a5a_0020_0008, "without ExceptionInfo.ThrownObject's tracker, Thread.LastThrownObject");
    assert.equal(t[1]!.firstNestedException, 0, "no ExceptionTracker field: no nested exception, no error");
  });

  test("EEAllocContext wraps the GC's allocation context when the descriptor has it", () => {
    const { rt } = runtimeWith(THREADS, { eeAllocContext: true });
    const t = new ThreadContract(rt.target()).threads();
    assert.deepEqual(t[0]!.allocContext, { pointer: 0x5a5a_0010_0000, limit: 0x5a5a_0010_2000 });
  });

  test("the exception in flight: the tracker's ThrownObject handle, and its nested exception", () => {
    const { rt, addresses } = runtimeWith(THREADS, { exceptionTracker: true });
    const handle = rt.memory.alloc(8, 8);
    rt.memory.u64(handle, 0x5a5a_0030_0000);
    const nested = rt.alloc("ExceptionInfo");
    const tracker = rt.fill(rt.alloc("ExceptionInfo"), "ExceptionInfo", { ThrownObject: handle, PreviousNestedInfo: nested });
    rt.set(addresses[0]!, "Thread", "ExceptionTracker", tracker);
    const t = new ThreadContract(rt.target()).threads();
    assert.equal(t[0]!.lastThrownObjectHandle, handle);
    assert.equal(t[0]!.firstNestedException, nested);
  });

  test("a looping thread list: the threads before the loop, and a warning (no hang)", () => {
    const { rt, addresses } = runtimeWith(THREADS);
    rt.set(addresses[2]!, "Thread", "LinkNext", rt.at(addresses[1]!, "Thread", "LinkNext"));
    const { value, warnings } = warningsOf(() => new ThreadContract(rt.target()).threadAddresses());
    assert.deepEqual(value, addresses.slice(0, 3));
    assert.ok(warnings.some((w) => /thread list loops/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /ThreadCount \(4\) does not match the 3 threads/.test(w)), warnings.join("\n"));
  });

  test("a link the dump lacks cuts the list with a warning; the finalizer missing from it is named", () => {
    const { rt, addresses } = runtimeWith(THREADS);
    rt.memory.drop(rt.at(addresses[0]!, "Thread", "LinkNext"), 8);
    const { value, warnings } = warningsOf(() => new ThreadContract(rt.target()).threadAddresses());
    assert.deepEqual(value, addresses.slice(0, 1));
    assert.ok(warnings.some((w) => /cut at Thread/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /lacks the finalizer thread/.test(w)), warnings.join("\n"));
  });

  test("counts that contradict the list and a damaged Thread are warnings, the values still shown", () => {
    const { rt } = runtimeWith([...THREADS, { id: 0, osId: 0x99 }], { counts: { DeadCount: 3, UnstartedCount: -1 } });
    const { value, warnings } = warningsOf(() => {
      const c = new ThreadContract(rt.target());
      return { counts: c.counts(), threads: c.threads() };
    });
    assert.equal(value!.counts.dead, 3);
    assert.ok(warnings.some((w) => /unstarted count \(-1\) is impossible/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /dead count \(3\) does not match the 1 dead threads/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /managed id 0/.test(w)), warnings.join("\n"));
    assert.equal(value!.threads.length, 5);
  });

  test("a descriptor without a field the contract needs: an error naming it", () => {
    const { rt } = runtimeWith(THREADS);
    rt.types.get("Thread")!.fields.delete("OSId");
    assert.throws(() => new ThreadContract(rt.target()).threads(), (e: unknown) => e instanceof MissingRuntimeDataError && /Thread\.OSId/.test(e.message));
  });
});

describe("explicit Frame chain", () => {
  function chain() {
    const rt = new SyntheticRuntime();
    rt.type("Frame", ["Next"], { start: 0x2b });
    // Identifiers are the frames' vtable-like first words; the descriptor names them.
    rt.global("InlinedCallFrameIdentifier", 0x5a5a_dead_0001);
    rt.global("SoftwareExceptionFrameIdentifier", "0x5a5adead0002");
    rt.global("SomethingIdentifier", 0x5a5a_dead_0003); // not a Frame: not a Frame's name
    const frames = [0x5a5a_dead_0001, 0x5a5a_dead_0002, 0x5a5a_dead_0003, 0x1234].map((id) => {
      const f = rt.alloc("Frame");
      rt.memory.u64(f, id);
      return f;
    });
    frames.forEach((f, i) => rt.set(f, "Frame", "Next", frames[i + 1] ?? 2n ** 64n - 1n));
    return { rt, frames };
  }

  test("each Frame named by its identifier global, unknown ones 'Frame', ending at FRAME_TOP", () => {
    const { rt, frames } = chain();
    const got = new FrameChain(rt.target()).frames(frames[0]!);
    assert.deepEqual(got, [
      { address: frames[0], name: "InlinedCallFrame" },
      { address: frames[1], name: "SoftwareExceptionFrame" },
      { address: frames[2], name: "Frame" },
      { address: frames[3], name: "Frame" },
    ]);
    assert.deepEqual(new FrameChain(rt.target()).frames(0), []);
  });

  test("a looping chain stops at the loop; a Next the dump lacks ends it", () => {
    const { rt, frames } = chain();
    rt.set(frames[2]!, "Frame", "Next", frames[0]!);
    assert.deepEqual(new FrameChain(rt.target()).frames(frames[0]!).map((f) => f.address), frames.slice(0, 3));
    rt.memory.drop(rt.at(frames[1]!, "Frame", "Next"), 8);
    assert.deepEqual(new FrameChain(rt.target()).frames(frames[0]!).map((f) => f.address), frames.slice(0, 2));
  });

  test("an InlinedCallFrame: its caller's return address, and the P/Invoke target while a call is active (an odd Datum is no MethodDesc)", () => {
    const { rt, frames } = chain();
    rt.type("InlinedCallFrame", ["CallerReturnAddress", "Datum"], { start: rt.size("Frame") + 0x11 });
    // The frames were allocated at Frame's size: give the InlinedCallFrame its own memory.
    const icf = rt.alloc("InlinedCallFrame");
    rt.memory.u64(icf, 0x5a5a_dead_0001);
    rt.fill(icf, "Frame", { Next: frames[1]! });
    rt.fill(icf, "InlinedCallFrame", { CallerReturnAddress: 0x5a5a_c0de_0042, Datum: 0x5a5a_0de5_0000 });
    const [active] = new FrameChain(rt.target()).frames(icf);
    assert.deepEqual(active, { address: icf, name: "InlinedCallFrame", methodDesc: 0x5a5a_0de5_0000, callerReturnAddress: 0x5a5a_c0de_0042 });
    rt.set(icf, "InlinedCallFrame", "Datum", 0x5a5a_0de5_0001);
    assert.deepEqual(new FrameChain(rt.target()).frames(icf)[0], { address: icf, name: "InlinedCallFrame", callerReturnAddress: 0x5a5a_c0de_0042 });
    rt.set(icf, "InlinedCallFrame", "CallerReturnAddress", 0);
    rt.set(icf, "InlinedCallFrame", "Datum", 0x5a5a_0de5_0000);
    assert.deepEqual(new FrameChain(rt.target()).frames(icf)[0], { address: icf, name: "InlinedCallFrame", callerReturnAddress: 0 }, "inactive: no call in progress, no target");
    // A return address that is no address: a warning, and none.
    rt.set(icf, "InlinedCallFrame", "CallerReturnAddress", 2n ** 64n - 2n);
    const { value, warnings } = warningsOf(() => new FrameChain(rt.target()).frames(icf)[0]);
    assert.deepEqual(value, { address: icf, name: "InlinedCallFrame" });
    assert.ok(warnings.some((w) => /CallerReturnAddress is unreadable/.test(w)), warnings.join("\n"));
  });
});
