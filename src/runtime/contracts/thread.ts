// Thread contract, version 1 (dotnet/runtime docs/design/datacontracts/Thread.md): the thread
// store and each runtime Thread, reached through ThreadStore.FirstThreadLink and the
// Thread.LinkNext chain.
import { CorruptDataError } from "../../errors.js";
import type { ManagedThread, ThreadStoreCounts } from "../clr-runtime.js";
import type { RuntimeTarget } from "./target.js";

function framePointer(value: number): number {
  return Number.isNaN(value) ? 0 : value;
}

/** More runtime threads than this means a corrupt list (real processes have thousands at most). */
const MAX_THREADS = 1 << 20;

export class ThreadContract {
  constructor(private readonly t: RuntimeTarget) {}

  private store(): number {
    return this.t.globalVariable("ThreadStore");
  }

  counts(): ThreadStoreCounts {
    const s = this.store();
    const count = (field: string) => this.t.i32Field(s, "ThreadStore", field);
    return {
      threadCount: count("ThreadCount"),
      unstarted: count("UnstartedCount"),
      background: count("BackgroundCount"),
      pending: count("PendingCount"),
      dead: count("DeadCount"),
    };
  }

  /** Addresses of every runtime Thread, in the thread store's order. */
  threadAddresses(): number[] {
    const linkOffset = this.t.descriptor.offset("Thread", "LinkNext");
    const out: number[] = [];
    const seen = new Set<number>();
    let link = this.t.pointerField(this.store(), "ThreadStore", "FirstThreadLink");
    while (link !== 0) {
      const thread = link - linkOffset;
      if (seen.has(thread) || out.length >= MAX_THREADS) throw new CorruptDataError(`the runtime's thread list loops at Thread 0x${thread.toString(16)}`);
      seen.add(thread);
      out.push(thread);
      link = this.t.pointer(thread + linkOffset);
    }
    return out;
  }

  thread(address: number, special: { finalizer: number; gc: number }): ManagedThread {
    const t = this.t;
    return {
      address,
      managedId: t.u32Field(address, "Thread", "Id"),
      osId: t.pointerField(address, "Thread", "OSId"),
      state: t.u32Field(address, "Thread", "State"),
      preemptiveGCDisabled: (t.u32Field(address, "Thread", "PreemptiveGCDisabled") & 1) !== 0,
      allocContext: this.allocContext(address),
      // FRAME_TOP (all bits set) ends an empty chain: no Frames is 0 here.
      frame: framePointer(t.memory.tryReadPointer(t.at(address, "Thread", "Frame"))),
      lastThrownObjectHandle: this.lastThrownObjectHandle(address),
      isFinalizer: address === special.finalizer,
      isGC: address === special.gc,
    };
  }

  threads(): ManagedThread[] {
    const special = { finalizer: this.optionalGlobalVariable("FinalizerThread"), gc: this.optionalGlobalVariable("GCThread") };
    return this.threadAddresses().map((a) => this.thread(a, special));
  }

  private optionalGlobalVariable(name: string): number {
    return this.t.descriptor.hasGlobal(name) ? this.t.globalVariable(name) : 0;
  }

  /** RuntimeThreadLocals.AllocContext, which newer runtimes wrap in an EEAllocContext. */
  private allocContext(thread: number): { pointer: number; limit: number } {
    const t = this.t;
    const locals = t.pointerField(thread, "Thread", "RuntimeThreadLocals");
    if (locals === 0) return { pointer: 0, limit: 0 };
    let ctx = t.at(locals, "RuntimeThreadLocals", "AllocContext");
    if (t.descriptor.hasField("EEAllocContext", "GCAllocationContext")) ctx = t.at(ctx, "EEAllocContext", "GCAllocationContext");
    return { pointer: t.pointerField(ctx, "GCAllocContext", "Pointer"), limit: t.pointerField(ctx, "GCAllocContext", "Limit") };
  }

  /**
   * The exception in flight, else Thread.LastThrownObject. ExceptionInfo.ThrownObject is the
   * tracker's m_hThrowable in the runtimes that publish it (8 to 10): a handle, so its value is
   * the handle. (dotnet/runtime main's Thread.md makes it the address of ExInfo.m_exception, a
   * pseudo-handle, after m_hThrowable's removal; such a runtime is told apart by the value at the
   * field not being a handle to an object, and the field's address serves as the handle.)
   * With EH funclets (always on Unix) Thread.ExceptionTracker is a pointer.
   */
  private lastThrownObjectHandle(thread: number): number {
    const t = this.t;
    const d = t.descriptor;
    if (d.hasField("Thread", "ExceptionTracker") && d.hasField("ExceptionInfo", "ThrownObject")) {
      const funclets = !d.hasGlobal("FeatureEHFunclets") || d.global("FeatureEHFunclets") !== 0;
      const tracker = funclets ? t.pointerField(thread, "Thread", "ExceptionTracker") : t.at(thread, "Thread", "ExceptionTracker");
      if (tracker !== 0) {
        const field = t.at(tracker, "ExceptionInfo", "ThrownObject");
        const value = t.pointer(field);
        if (value !== 0) return this.holdsObjectPointer(value) ? value : field;
      }
    }
    return d.hasField("Thread", "LastThrownObject") ? t.pointerField(thread, "Thread", "LastThrownObject") : 0;
  }

  /** True when `address` holds a pointer to something that starts with a pointer (an object's MethodTable): a handle. */
  private holdsObjectPointer(address: number): boolean {
    const object = this.t.memory.tryReadPointer(address);
    if (!object || Number.isNaN(object)) return false;
    const methodTable = this.t.memory.tryReadPointer(object);
    return !!methodTable && !Number.isNaN(methodTable);
  }

}
