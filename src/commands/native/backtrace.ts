// `bt` / `thread backtrace [all]` (lldb): native backtraces of the current thread or of all.
// Frames found by stack scanning are marked, since they may be wrong.
import { throwIfCancelled } from "../../cancellation.js";
import { CommandError, tryOrUndefined } from "../../errors.js";
import type { ThreadBacktrace } from "../../native/process.js";
import type { StopReason } from "../../native/unwinder.js";
import { defineCommand, hexPadded, optionalClrRuntime, parseArgs, parseNumber, type Session } from "../command.js";
import type { ClrRuntime, ManagedThread } from "../../runtime/clr-runtime.js";
import { warnUnknownCodeBeforeFallback, warnScannedFrames, warnWalkEndedBelowFrames, warnWalkStoppedEarly } from "../../runtime/stack-checks.js";
import { describeLocation, frameResult, type FrameResult } from "./location.js";

export interface BacktraceResult {
  threads: { index: number; tid: number; current: boolean; stop: StopReason; frames: FrameResult[] }[];
}

function backtraces(session: Session, args: string[]): BacktraceResult {
  const a = parseArgs(args, ["-c"]);
  const all = a.positional[0] === "all";
  if (a.positional.length > (all ? 1 : 0)) throw new CommandError(`unexpected argument ${a.positional[all ? 1 : 0]} (usage: bt [all] [-c COUNT])`, "usage");
  const count = a.values.has("-c") ? parseNumber(a.values.get("-c")!, "frame count") : undefined;
  const p = session.process;
  const runtime = optionalClrRuntime(session); // mixed mode: managed frames unwound by their unwind data and named
  const threads = all ? p.threads : [p.thread(session.currentThread)!];
  const managedThreads = runtime && tryOrUndefined(() => new Map(runtime.threads().map((m) => [m.osId, m])));
  return {
    threads: threads.map((t) => {
      throwIfCancelled();
      const bt: ThreadBacktrace = p.backtrace(t, count);
      if (runtime) checkAgainstRuntime(runtime, `thread #${t.index}`, managedThreads?.get(t.tid), bt);
      return { index: t.index, tid: t.tid, current: t.index === session.currentThread, stop: bt.stop, frames: bt.frames.map(frameResult) };
    }),
  };
}

/** Where the runtime is known, what it says about the thread's stack must agree with the walk. */
function checkAgainstRuntime(runtime: ClrRuntime, label: string, managed: ManagedThread | undefined, bt: ThreadBacktrace): void {
  warnUnknownCodeBeforeFallback(label, bt.frames, (i) => bt.frames[i]!.module !== undefined);
  const explicitFrames = managed && tryOrUndefined(() => runtime.explicitFrames(managed));
  if (explicitFrames) warnWalkEndedBelowFrames(label, bt.frames, explicitFrames.map((f) => f.address));
  // Only on managed threads: a native thread's walk that stops is shown by its stop line alone, as lldb does.
  if (managed) {
    warnWalkStoppedEarly(label, bt.frames, bt.stop);
    warnScannedFrames(label, bt.frames);
  }
}

function render(r: BacktraceResult): string {
  const out: string[] = [];
  for (const t of r.threads) {
    out.push(`${t.current ? "*" : " "} thread #${t.index}, tid = ${t.tid}`);
    for (const f of t.frames) {
      const mark = t.current && f.index === 0 ? "  * " : "    ";
      out.push(`${mark}frame #${f.index}: ${hexPadded(parseInt(f.ip, 16))} ${describeLocation(f)}${f.trust === "scan" ? "  [found by stack scan]" : ""}`);
    }
    if (t.stop !== "root" && t.stop !== "frame-limit") out.push(`    (backtrace stopped: ${t.stop})`);
    out.push("");
  }
  return out.join("\n").trimEnd();
}

export const backtrace = defineCommand<BacktraceResult>({
  names: ["bt", "thread backtrace"],
  summary: "Native backtrace of the current thread, or of every thread with 'all'",
  usage: "bt [all] [-c COUNT]",
  run: backtraces,
  render,
});
