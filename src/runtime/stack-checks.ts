// Sanity checks of a thread's unwound native stack against the runtime's view, shared by `bt` and
// `clrstack`/`pstacks`: where they disagree, managed frames are missing and the command says so.
import type { FrameTrust, StopReason } from "../native/unwinder.js";
import { warn } from "../warnings.js";
import { ThreadStateFlags, type ManagedThread } from "./clr-runtime.js";
import { hex } from "../hex.js";

interface WalkedFrame {
  ip: number;
  sp: number;
  trust: FrameTrust;
}

/**
 * Code that no module and no runtime structure knows, whose caller had to be found by frame
 * pointer or scan, is most likely managed code the runtime's code map failed to find (damaged):
 * its name and the frames above it are then guesses.
 */
export function warnUnknownCodeBeforeFallback(thread: string, frames: readonly WalkedFrame[], isKnownCode: (index: number) => boolean): void {
  frames.forEach((f, i) => {
    const caller = frames[i + 1];
    if (caller !== undefined && (caller.trust === "frame_pointer" || caller.trust === "scan") && !isKnownCode(i)) {
      warn(`${thread} frame #${i}: code at ${hex(f.ip)} is in no module and the runtime's code map does not know it (damaged?); the frames above it were found by ${caller.trust.replace("_", " ")}`);
    }
  });
}

/** The runtime's Frames (transitions) sit inside the stack's frames: one above the walk's end means the walk stopped early. */
export function warnWalkEndedBelowFrames(thread: string, frames: readonly WalkedFrame[], explicitFrames: readonly number[]): void {
  const last = frames[frames.length - 1];
  if (last === undefined) return;
  const above = explicitFrames.filter((a) => a > last.sp);
  if (above.length > 0) {
    warn(`${thread}: the stack walk ended at sp ${hex(last.sp)}, below ${above.length} of the runtime's Frames (first at ${hex(above[0]!)}): the managed frames above are missing (damaged stack?)`);
  }
}

/** Every live runtime thread runs on an OS thread the dump holds: one that does not has a damaged id (or the dump lacks the thread). */
export function warnLiveThreadNotInDump(thread: ManagedThread, inDump: boolean): void {
  if (inDump || (thread.state & (ThreadStateFlags.Unstarted | ThreadStateFlags.Dead)) !== 0) return;
  warn(`Thread ${hex(thread.address)} (managed id ${thread.managedId}) is alive but its OS thread id ${thread.osId} is not in the dump (damaged id?): its stack is missing`);
}

/** A walk that ends anywhere but the thread's root (or the frame cap) has lost the frames above. */
export function warnWalkStoppedEarly(thread: string, frames: readonly WalkedFrame[], stop: StopReason): void {
  if (stop === "root" || stop === "frame-limit") return;
  const last = frames[frames.length - 1];
  warn(`${thread}: the stack walk stopped (${stop})${last ? ` after ${hex(last.ip)} at sp ${hex(last.sp)}` : ""}: the frames above are missing (damaged stack?)`);
}

/** Frames found by scanning the stack are guesses: the unwind data did not lead on, so frames may be missing or wrong. */
export function warnScannedFrames(thread: string, frames: readonly WalkedFrame[]): void {
  const first = frames.findIndex((f) => f.trust === "scan");
  if (first >= 0) warn(`${thread}: frames from #${first} on were found by stack scan (the unwind data did not lead on; damaged stack?): frames may be missing or wrong`);
}
