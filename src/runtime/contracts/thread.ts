// Thread contract, version 1 (dotnet/runtime docs/design/datacontracts/Thread.md): the thread
// store and each runtime Thread, reached through ThreadStore.FirstThreadLink and the
// Thread.LinkNext chain.
import { tryOrUndefined } from "../../errors.js";
import { warn } from "../../warnings.js";
import { ThreadStateFlags, type ManagedThread, type ThreadStoreCounts } from "../clr-runtime.js";
import { GlobalUnreadableError, type RuntimeTarget } from "./target.js";
import { hex } from "../../hex.js";
import { MAX_THREADS } from "../../limits.js";

function framePointer(value: number): number {
  return Number.isNaN(value) ? 0 : value;
}


export class ThreadContract {
  constructor(private readonly t: RuntimeTarget) {}

  private store(): number {
    return this.t.globalVariable("ThreadStore");
  }

  counts(): ThreadStoreCounts {
    const s = this.store();
    const count = (field: string) => this.t.i32Field(s, "ThreadStore", field);
    const counts = {
      threadCount: count("ThreadCount"),
      unstarted: count("UnstartedCount"),
      background: count("BackgroundCount"),
      pending: count("PendingCount"),
      dead: count("DeadCount"),
    };
    const addresses = this.threadAddresses();
    const listed = addresses.length;
    for (const [name, n] of Object.entries(counts)) {
      if (name !== "threadCount" && (n < 0 || n > listed)) warn(`the thread store's ${name} count (${n}) is impossible for ${listed} threads (damaged thread store)`);
    }
    // The store counts unstarted and dead threads as their state flags change: the flags of the list must agree.
    const states = addresses.map((a) => tryOrUndefined(() => this.t.u32Field(a, "Thread", "State")) ?? 0);
    for (const [name, flag] of [["unstarted", ThreadStateFlags.Unstarted], ["dead", ThreadStateFlags.Dead]] as const) {
      const flagged = states.filter((s) => (s & flag) !== 0).length;
      if (counts[name] !== flagged) warn(`the thread store's ${name} count (${counts[name]}) does not match the ${flagged} ${name} threads in its list (damaged thread store or threads)`);
    }
    return counts;
  }

  /** Addresses of every runtime Thread, in the thread store's order (up to a loop, with a warning). */
  threadAddresses(): number[] {
    // Up to .NET 10 the list is an SList: ThreadStore.FirstThreadLink and Thread.LinkNext point at
    // the next thread's link field. .NET 11 (Thread "c1") links the Thread objects themselves: its
    // FirstThreadLink holds the first Thread (Id 1, the main thread) and LinkNext the next Thread.
    const linkOffset = this.t.descriptor.hasStringVersion("Thread") ? 0 : this.t.descriptor.offset("Thread", "LinkNext");
    const nextOffset = this.t.descriptor.offset("Thread", "LinkNext");
    const out: number[] = [];
    const seen = new Set<number>();
    let link = this.t.pointerField(this.store(), "ThreadStore", "FirstThreadLink");
    while (link !== 0) {
      const thread = link - linkOffset;
      if (seen.has(thread) || out.length >= MAX_THREADS) {
        warn(`the runtime's thread list loops at Thread ${hex(thread)} (damaged): only the ${out.length} threads before the loop are listed`);
        break;
      }
      seen.add(thread);
      out.push(thread);
      const next = this.t.memory.tryReadPointer(thread + nextOffset);
      if (Number.isNaN(next)) {
        warn(`the runtime's thread list is cut at Thread ${hex(thread)} (its link is unreadable): threads after it are missing`);
        break;
      }
      link = next;
    }
    // The thread store counts the threads of its own list: a count it contradicts is damage.
    const count = tryOrUndefined(() => this.t.i32Field(this.store(), "ThreadStore", "ThreadCount"));
    if (count !== out.length) warn(`the thread store's ThreadCount (${count ?? "unreadable"}) does not match the ${out.length} threads in its list (damaged thread store or list): threads may be missing`);
    const finalizer = this.optionalGlobalVariable("FinalizerThread");
    if (finalizer !== 0 && !seen.has(finalizer)) warn(`the runtime's thread list lacks the finalizer thread ${hex(finalizer)} (damaged thread store or list): threads are missing`);
    return out;
  }

  thread(address: number, special: { finalizer: number; gc: number }): ManagedThread {
    const t = this.t;
    const managedId = t.u32Field(address, "Thread", "Id");
    const osId = t.pointerField(address, "Thread", "OSId");
    const state = t.u32Field(address, "Thread", "State");
    // Managed ids start at 1, and a thread that has started and not ended has an OS thread.
    if (managedId === 0 || (osId === 0 && (state & (ThreadStateFlags.Unstarted | ThreadStateFlags.Dead)) === 0)) {
      warn(`Thread ${hex(address)} is damaged (managed id ${managedId}, OS id ${osId}, state ${hex(state)}): its row and stack are unreliable`);
    }
    return {
      address,
      managedId,
      osId,
      state,
      preemptiveGCDisabled: (t.u32Field(address, "Thread", "PreemptiveGCDisabled") & 1) !== 0,
      allocContext: this.allocContext(address),
      // FRAME_TOP (all bits set) ends an empty chain: no Frames is 0 here.
      frame: framePointer(t.memory.tryReadPointer(t.at(address, "Thread", "Frame"))),
      lastThrownObjectHandle: this.lastThrownObjectHandle(address),
      firstNestedException: this.firstNestedException(address),
      isFinalizer: address === special.finalizer,
      isGC: address === special.gc,
    };
  }

  threads(): ManagedThread[] {
    const special = { finalizer: this.optionalGlobalVariable("FinalizerThread"), gc: this.optionalGlobalVariable("GCThread") };
    return this.threadAddresses().map((a) => this.thread(a, special));
  }

  private optionalGlobalVariable(name: string): number {
    if (!this.t.descriptor.hasGlobal(name)) return 0;
    try {
      return this.t.globalVariable(name);
    } catch (e) {
      if (!(e instanceof GlobalUnreadableError)) throw e;
      warn(e.message);
      return 0;
    }
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

  /** The current exception tracker (ExInfo), 0 when no exception is being handled. With EH funclets (always on Unix) Thread.ExceptionTracker is a pointer. */
  private exceptionTracker(thread: number): number {
    const t = this.t;
    const d = t.descriptor;
    if (!d.hasField("Thread", "ExceptionTracker")) return 0;
    const funclets = !d.hasGlobal("FeatureEHFunclets") || d.global("FeatureEHFunclets") !== 0;
    return funclets ? t.pointerField(thread, "Thread", "ExceptionTracker") : t.at(thread, "Thread", "ExceptionTracker");
  }

  /** GetThreadData's FirstNestedException: the tracker's PreviousNestedInfo. */
  private firstNestedException(thread: number): number {
    const tracker = this.exceptionTracker(thread);
    if (tracker === 0 || !this.t.descriptor.hasField("ExceptionInfo", "PreviousNestedInfo")) return 0;
    return this.t.pointerField(tracker, "ExceptionInfo", "PreviousNestedInfo");
  }

  /**
   * The exception in flight, else Thread.LastThrownObject. ExceptionInfo.ThrownObject is the
   * tracker's m_hThrowable in the runtimes that publish it (9 and 10): a handle, so the field's
   * value is the handle. From .NET 11, after m_hThrowable's removal, the field is ExInfo.m_exception
   * and its address the handle.
   */
  private lastThrownObjectHandle(thread: number): number {
    const t = this.t;
    const d = t.descriptor;
    if (d.hasField("ExceptionInfo", "ThrownObject") && d.hasStringVersion("Thread")) {
      // .NET 11 (Thread "c1"): ThrownObject is ExInfo.m_exception, the object itself; the field's
      // address serves as the handle (Thread.md's GetCurrentExceptionHandle).
      const tracker = this.exceptionTracker(thread);
      if (tracker !== 0 && t.pointerField(tracker, "ExceptionInfo", "ThrownObject") !== 0) return t.at(tracker, "ExceptionInfo", "ThrownObject");
    } else if (d.hasField("ExceptionInfo", "ThrownObject")) {
      const tracker = this.exceptionTracker(thread);
      if (tracker !== 0) {
        const handle = t.pointerField(tracker, "ExceptionInfo", "ThrownObject");
        if (handle !== 0 && t.memory.tryReadPointer(handle)) return handle;
      }
    }
    return d.hasField("Thread", "LastThrownObject") ? t.pointerField(thread, "Thread", "LastThrownObject") : 0;
  }
}
