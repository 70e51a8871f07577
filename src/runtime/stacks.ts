// Managed stack walking, a service of the managed model used by clrstack and pstacks: each
// thread's managed frames and the explicit runtime Frames (transitions) between them, innermost
// first, as plain numbers. The data contracts walk where the descriptor lets them (the mixed-mode
// unwind, whose managed frames the runtime's code map names: the same map `bt` names frames
// with, managed-code-provider.ts); the DAC walks where it cannot (.NET 8 and 9).
import { throwIfCancelled } from "../cancellation.js";
import { ClrscopeError } from "../errors.js";
import type { NativeProcess } from "../native/process.js";
import { warn, warningsOf } from "../warnings.js";
import { hex } from "../hex.js";
import type { ClrRuntime, ExplicitFrame, ManagedThread } from "./clr-runtime.js";
import type { DetailedStackWalker, WalkedFrame } from "./model.js";
import { NoRuntimeError } from "./open-runtime.js";
import { warnLiveThreadNotInDump, warnScannedFrames, warnUnknownCodeBeforeFallback, warnWalkEndedBelowFrames, warnWalkStoppedEarly } from "./stack-checks.js";

/** One row of a managed stack: a managed method's frame, or an explicit runtime Frame. */
export interface ManagedStackFrame {
  kind: "managed" | "frame";
  /** Child SP: the frame's stack pointer (for explicit Frames, the Frame's address). */
  sp: number;
  ip: number;
  /** The managed frame's MethodDesc; for a Frame, the method it stands for when the runtime says (else null). */
  methodDesc: number | null;
  /** The explicit Frame's type name ("InlinedCallFrame"...), null for managed frames. */
  frameName: string | null;
}

export interface ThreadManagedStack {
  osId: number;
  managedId: number;
  /** The debugger's index of the thread in the dump (0-based), null when the dump lacks it. */
  dbg: number | null;
  frames: ManagedStackFrame[];
}

export interface AllManagedStacks {
  /** Who walked: the contracts backend, or the DAC (runtimes whose descriptor cannot). */
  walker: "contracts" | "dac";
  threads: ThreadManagedStack[];
  /** With the DAC walker: the walker, whose methodName names the frames. */
  dac?: DetailedStackWalker;
}

/** True when the error says the contracts backend cannot walk this runtime's stacks. */
export function contractsCannotWalk(e: unknown): boolean {
  return e instanceof NoRuntimeError || (e instanceof ClrscopeError && e.code === "runtime-data-missing");
}

/** The managed threads whose stacks the dump holds (with a warning for each live one it lacks). */
export function threadsInDump(process: NativeProcess, threads: ManagedThread[]): ManagedThread[] {
  return threads.filter((t) => {
    const inDump = t.osId !== 0 && process.threadByTid(t.osId) !== undefined;
    warnLiveThreadNotInDump(t, inDump);
    return inDump;
  });
}

export class ManagedStacks {
  /**
   * The contracts walk of each thread (by Thread address), kept for the session (a dump does not
   * change): pstacks after clrstack, or clrstack -a after clrstack, walks once. The walk's
   * warnings are raised again on each use.
   */
  private readonly walked = new Map<number, { stack: ThreadManagedStack; warnings: string[] }>();

  constructor(
    private readonly process: NativeProcess,
    private readonly contracts: () => ClrRuntime,
    private readonly dac: () => { walker?: DetailedStackWalker; error?: string },
  ) {}

  /** A thread's stack as the contracts walk it (a copy the caller may change); throws when the contracts cannot walk. */
  contractsStack(thread: ManagedThread): ThreadManagedStack {
    let kept = this.walked.get(thread.address);
    if (kept) for (const w of kept.warnings) warn(w);
    else {
      const { value, warnings } = warningsOf(() => walkWithContracts(this.contracts(), this.process, thread));
      kept = { stack: value, warnings };
      this.walked.set(thread.address, kept);
    }
    return { ...kept.stack, frames: kept.stack.frames.map((f) => ({ ...f })) };
  }

  /** Every managed thread's stack in the dump: the contracts walk, else the DAC's. */
  all(): AllManagedStacks {
    let contractsError: unknown;
    try {
      const threads = threadsInDump(this.process, this.contracts().threads());
      return { walker: "contracts", threads: threads.map((t) => this.contractsStack(t)) };
    } catch (e) {
      if (!contractsCannotWalk(e)) throw e;
      contractsError = e;
    }
    const { walker: dac, error } = this.dac();
    if (!dac) throw new NoRuntimeError(`${(contractsError as Error).message}; the DAC cannot walk the stacks either: ${error}`);
    const threads = threadsInDump(this.process, dac.threads());
    const options = { args: false, locals: false, ilOffsets: false };
    // Every thread's walk in one round trip to the DAC host when it can; thread by thread else.
    let walks: ({ frames: WalkedFrame[] | undefined } | { error: Error })[] | undefined;
    try {
      walks = dac.stackWalks?.(threads.map((t) => t.osId), options);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    const stacks = threads.map((t, i) => {
      throwIfCancelled();
      const w = walks?.[i];
      if (w && "error" in w) throw w.error;
      return dacStack(this.process, t, (w ? w.frames : dac.stackWalk(t.osId, options)) ?? []);
    });
    dac.prepare?.([], stacks.flatMap((s) => s.frames.filter((f) => f.kind === "managed").map((f) => f.methodDesc!)), true);
    return { walker: "dac", threads: stacks, dac };
  }
}

/** The debugger's index of a thread (0-based), null when the dump lacks it. */
function debuggerIndex(process: NativeProcess, osId: number): number | null {
  const native = process.threadByTid(osId);
  return native ? native.index - 1 : null;
}

function walkWithContracts(rt: ClrRuntime, process: NativeProcess, thread: ManagedThread): ThreadManagedStack {
  throwIfCancelled();
  const native = process.threadByTid(thread.osId);
  const walk = native ? process.unwindThread(native) : { frames: [], stop: "root" as const };
  const unwound = walk.frames;
  const blocks = unwound.map((f) => rt.codeBlock(f.index === 0 ? f.ip : f.ip - 1));
  const out: ManagedStackFrame[] = [];
  const frames = rt.explicitFrames(thread);
  const label = `thread ${hex(thread.osId)}`;
  warnUnknownCodeBeforeFallback(label, unwound, (i) => blocks[i] !== undefined || process.modules.at(unwound[i]!.ip) !== undefined);
  warnWalkEndedBelowFrames(label, unwound, frames.map((f) => f.address));
  warnWalkStoppedEarly(label, unwound, walk.stop);
  warnScannedFrames(label, unwound);
  // The runtime reports a Frame when its walk leaves native code: before the managed frame
  // whose stack area holds it (an InlinedCallFrame sits inside its P/Invoking method's frame),
  // or, holding none, after the managed frames below its address. Its IP is the walk's context
  // there: that of the first native frame of the run it ends (libcoreclr's, for a Frame the
  // runtime's own code pushed, such as a SoftwareExceptionFrame).
  const firstOfNativeRunBefore = (i: number) => {
    let j = i;
    while (j > 0 && !blocks[j - 1]) j--;
    return unwound[j < i ? j : i]?.ip ?? 0;
  };
  // An active InlinedCallFrame is reported twice, as the runtime's walk (and SOS) does: once at
  // that context, then again with the context the Frame restores (its CallerReturnAddress), which
  // is also the IP of the managed frame it sits in.
  const pushFrame = (fr: ExplicitFrame, ip: number): number | undefined => {
    out.push(frameRow(fr, ip));
    if (!fr.callerReturnAddress) return undefined;
    out.push(frameRow(fr, fr.callerReturnAddress));
    return fr.callerReturnAddress;
  };
  let next = 0;
  unwound.forEach((f, i) => {
    const block = blocks[i];
    if (!block) return;
    const callerSp = unwound[i + 1]?.sp ?? Infinity;
    let resumeIp: number | undefined;
    for (; next < frames.length && frames[next]!.address < callerSp; next++) resumeIp = pushFrame(frames[next]!, firstOfNativeRunBefore(i));
    out.push({ kind: "managed", sp: f.sp, ip: resumeIp ?? f.ip, methodDesc: block.methodDesc, frameName: null });
  });
  for (; next < frames.length; next++) {
    const fr = frames[next]!;
    let lastManagedBelow = -1;
    blocks.forEach((b, i) => {
      if (b && unwound[i]!.sp < fr.address) lastManagedBelow = i;
    });
    pushFrame(fr, unwound[lastManagedBelow + 1]?.ip ?? 0);
  }
  return { osId: thread.osId, managedId: thread.managedId, dbg: native ? native.index - 1 : null, frames: out };
}

function frameRow(frame: ExplicitFrame, ip: number): ManagedStackFrame {
  return { kind: "frame", sp: frame.address, ip, methodDesc: frame.methodDesc || null, frameName: frame.name };
}

/**
 * A thread's stack from the DAC's own walk, as SOS lists it: an active InlinedCallFrame the walk
 * reports twice in a row (at the native IP, then at its call site) is listed twice.
 */
export function dacStack(process: NativeProcess, thread: ManagedThread, walked: WalkedFrame[]): ThreadManagedStack {
  const frames: ManagedStackFrame[] = [];
  for (const f of walked) {
    if (f.frameAddress !== 0) frames.push({ kind: "frame", sp: f.frameAddress, ip: f.ip, methodDesc: null, frameName: f.frameName });
    else if (f.methodDesc !== 0) frames.push({ kind: "managed", sp: f.sp, ip: f.ip, methodDesc: f.methodDesc, frameName: null });
  }
  return { osId: thread.osId, managedId: thread.managedId, dbg: debuggerIndex(process, thread.osId), frames };
}

/** A method's name from the DAC walker, or `<MethodDesc 0x...>` when it cannot name it. */
export function dacMethodName(dac: DetailedStackWalker, methodDesc: number): string {
  try {
    return dac.methodName(methodDesc);
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    return `<MethodDesc 0x${methodDesc.toString(16)}>`;
  }
}
