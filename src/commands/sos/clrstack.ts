// `clrstack [-all]` (SOS ClrStack): the managed frames of a thread, innermost first, with the
// explicit runtime Frames (transitions) between them, by stack address. Managed frames come from
// the mixed-mode unwind (their unwind data), names from metadata.
import { CommandError } from "../../errors.js";
import type { ManagedThread } from "../../runtime/clr-runtime.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, type Session } from "../command.js";
import { hexDigits } from "../../hex.js";

export interface ClrStackFrame {
  kind: "managed" | "frame";
  /** Child SP: the frame's stack pointer (for explicit Frames, the Frame's address). */
  sp: string;
  ip: string;
  /** "Namespace.Type.Method(Args)" or, for explicit Frames, "[InlinedCallFrame: 0x...]". */
  callSite: string;
  methodDesc: string | null;
  /** The explicit Frame's type name, for kind "frame". */
  frameName: string | null;
}

export interface ClrStackResult {
  threads: { osId: number; managedId: number; dbg: number | null; frames: ClrStackFrame[] }[];
}

/** A managed thread's clrstack rows (managed frames and explicit Frames), innermost first. */
export function clrStackFrames(session: Session, thread: ManagedThread): ClrStackFrame[] {
  return stackOf(session, thread).frames;
}

function stackOf(session: Session, thread: ManagedThread): ClrStackResult["threads"][number] {
  const rt = clrRuntime(session);
  const native = session.process.threadByTid(thread.osId);
  const unwound = native ? session.process.unwindThread(native).frames : [];
  const blocks = unwound.map((f) => rt.codeBlock(f.index === 0 ? f.ip : f.ip - 1));
  const out: ClrStackFrame[] = [];
  const frames = rt.explicitFrames(thread);
  // The runtime reports a Frame when its walk leaves native code: before the managed frame
  // whose stack area holds it (an InlinedCallFrame sits inside its P/Invoking method's frame),
  // or, holding none, after the managed frames below its address. Its IP is that of the first
  // native frame of the run it ends.
  const firstOfNativeRunBefore = (i: number) => {
    let j = i;
    while (j > 0 && !blocks[j - 1]) j--;
    return unwound[j < i ? j : i]?.ip ?? 0;
  };
  const frameRow = (address: number, name: string, ip: number): ClrStackFrame => ({
    kind: "frame", sp: hexAddress(address), ip: hexAddress(ip), callSite: `[${name}: ${hexDigits(address, 16)}]`, methodDesc: null, frameName: name,
  });
  let next = 0;
  unwound.forEach((f, i) => {
    const block = blocks[i];
    if (!block) return;
    const callerSp = unwound[i + 1]?.sp ?? Infinity;
    for (; next < frames.length && frames[next]!.address < callerSp; next++) {
      const fr = frames[next]!;
      out.push(frameRow(fr.address, fr.name, fr.address >= f.sp ? firstOfNativeRunBefore(i) : f.ip));
    }
    out.push({
      kind: "managed", sp: hexAddress(f.sp), ip: hexAddress(f.ip),
      callSite: session.names!.methodSignature(block.methodDesc), methodDesc: hexAddress(block.methodDesc), frameName: null,
    });
  });
  for (; next < frames.length; next++) {
    const fr = frames[next]!;
    let lastManagedBelow = -1;
    blocks.forEach((b, i) => {
      if (b && unwound[i]!.sp < fr.address) lastManagedBelow = i;
    });
    out.push(frameRow(fr.address, fr.name, unwound[lastManagedBelow + 1]?.ip ?? 0));
  }
  return { osId: thread.osId, managedId: thread.managedId, dbg: native ? native.index - 1 : null, frames: out };
}

export const clrStack = defineCommand<ClrStackResult>({
  names: ["clrstack"],
  summary: "SOS: managed call stack of the current thread (or of every managed thread with -all)",
  usage: "clrstack [-all]",
  run(session, args) {
    const all = parseArgs(args, [], ["-all"]).switches.has("-all");
    const threads = clrRuntime(session).threads().filter((t) => t.osId !== 0 && session.process.threadByTid(t.osId));
    if (all) return { threads: threads.map((t) => stackOf(session, t)) };
    const tid = session.process.thread(session.currentThread)!.tid;
    const current = threads.find((t) => t.osId === tid);
    if (!current) {
      throw new CommandError(
        `thread ${tid} is not a managed thread; clrthreads lists them (select one with setthread -t TID)`,
        "not-managed-thread",
      );
    }
    return { threads: [stackOf(session, current)] };
  },
  render(r) {
    const out: string[] = [];
    for (const t of r.threads) {
      out.push(r.threads.length > 1 ? `OS Thread Id: 0x${t.osId.toString(16)}` : `OS Thread Id: 0x${t.osId.toString(16)} (${t.dbg ?? "XXXX"})`);
      out.push("        Child SP               IP Call Site");
      for (const f of t.frames) {
        const sp = hexDigits(parseInt(f.sp, 16), 16).toUpperCase();
        const ip = hexDigits(parseInt(f.ip, 16), 16);
        out.push(`${sp} ${f.kind === "managed" ? ip.toUpperCase() : ip} ${f.callSite}`);
      }
      out.push("");
    }
    return out.join("\n").trimEnd();
  },
});
