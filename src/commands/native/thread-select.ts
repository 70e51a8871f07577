// `thread select N` (lldb, 1-based) and SOS's `setthread [N | -t TID]` / `threads`, which list
// threads with a 0-based index as dotnet-dump does and select by that index or by OS thread id.
import { CommandError } from "../../errors.js";
import { defineCommand, parseArgs, parseNumber, type Session } from "../command.js";

export interface SelectedThread {
  index: number;
  tid: number;
}

export interface SosThreadsResult {
  current: SelectedThread;
  threads: (SelectedThread & { sosIndex: number })[];
}

/** Selects thread `index` (1-based); `shownAs` names it in the error as the user typed it. */
function select(session: Session, index: number, shownAs = `#${index}`): SelectedThread {
  const t = session.process.thread(index);
  if (!t) throw new CommandError(`no thread ${shownAs} (the dump has ${session.process.threads.length} threads)`, "no-such-thread");
  session.currentThread = index;
  return { index: t.index, tid: t.tid };
}

export const threadSelect = defineCommand<SelectedThread>({
  names: ["thread select"],
  summary: "Make thread N (1-based, as in thread list) the current thread",
  usage: "thread select N",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length !== 1) throw new CommandError("usage: thread select N", "usage");
    return select(session, parseNumber(a.positional[0]!, "thread index"));
  },
  render: (r) => `* thread #${r.index}, tid = ${r.tid}`,
});

export const setThread = defineCommand<SosThreadsResult>({
  names: ["setthread", "threads"],
  summary: "SOS: list threads (0-based index), or select one by index or by OS id with -t",
  usage: "setthread [INDEX | -t TID]",
  run(session, args) {
    const a = parseArgs(args, ["-t"]);
    const p = session.process;
    if (a.values.has("-t")) {
      const tid = parseNumber(a.values.get("-t")!, "thread id");
      const t = p.threadByTid(tid);
      if (!t) throw new CommandError(`no thread with OS id ${tid} (0x${tid.toString(16)}) in the dump`, "no-such-thread");
      select(session, t.index);
    } else if (a.positional.length === 1) {
      // SOS's index is 0-based: the error names the index typed, not the 1-based one it maps to.
      const sosIndex = parseNumber(a.positional[0]!, "thread index");
      select(session, sosIndex + 1, `with index ${sosIndex}`);
    }
    const current = p.thread(session.currentThread)!;
    return {
      current: { index: current.index, tid: current.tid },
      threads: p.threads.map((t) => ({ sosIndex: t.index - 1, index: t.index, tid: t.tid })),
    };
  },
  render(r) {
    return r.threads
      .map((t) => `${t.index === r.current.index ? "*" : " "}${t.sosIndex} 0x${t.tid.toString(16).toUpperCase().padStart(4, "0")} (${t.tid})`)
      .join("\n");
  },
});
