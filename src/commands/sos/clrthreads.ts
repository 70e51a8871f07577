// `clrthreads` (SOS `Threads`): the runtime's thread store and every managed thread, in SOS's
// layout (src/SOS/Strike/strike.cpp PrintThreadsFromThreadStore). From the data contracts, or on
// runtimes without a descriptor (.NET 8 and older) from the runtime's DAC.
import { ThreadStateFlags, type ThreadStoreCounts } from "../../runtime/clr-runtime.js";
import type { ThreadStore } from "../../runtime/model.js";
import { defineCommand, hexAddress, parseArgs, type Session } from "../command.js";
import { tryOrUndefined } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { warnLiveThreadNotInDump } from "../../runtime/stack-checks.js";

export interface ClrThreadsResult {
  /** Which backend answered: the data contracts, or the DAC where the runtime has no descriptor. */
  backend: "contracts" | "dac";
  counts: ThreadStoreCounts;
  threads: {
    /** dotnet-dump's 0-based thread index (as `threads`/`setthread` use), null if the OS thread is not in the dump. */
    dbg: number | null;
    managedId: number;
    osId: number;
    address: string;
    state: string;
    gcMode: "Cooperative" | "Preemptive";
    allocContext: { pointer: string; limit: string };
    domain: string;
    background: boolean;
    threadPoolWorker: boolean;
    finalizer: boolean;
    gc: boolean;
    /** Address of the handle to the last thrown exception, if any. */
    lastThrownObjectHandle: string | null;
    /** SOS's Exception column: the object the handle holds and its type, null without one. */
    exception: { address: string; type: string } | null;
    /** Another exception is still being handled beneath this one (SOS: "(nested exceptions)"). */
    nestedExceptions: boolean;
  }[];
}

const LOCK_HEADER = " ".repeat(108) + "Lock  ";
const COLUMNS = " DBG   ID     OSID ThreadOBJ           State GC Mode     GC Alloc Context                  Domain           Count Apt Exception";

/** The object a last-thrown-object handle holds and its type name (null: no handle, empty, or not readable). */
function lastThrownException(session: Session, store: ThreadStore, handle: number): { address: string; type: string } | null {
  if (handle === 0) return null;
  const object = session.process.memory.tryReadPointer(handle);
  if (!object || Number.isNaN(object)) return null;
  // An object the dump lacks (mini dumps) or that is damaged leaves the column empty, not the command failed.
  const type = tryOrUndefined(() => store.typeNameOf(object));
  return type === undefined ? null : { address: hexAddress(object), type };
}

export const clrThreads = defineCommand<ClrThreadsResult>({
  names: ["clrthreads"],
  summary: "SOS: managed threads (thread store counts, ids, state, GC mode, alloc context)",
  usage: "clrthreads [-live]",
  mayAskDac: () => false,
  run(session, args) {
    const live = parseArgs(args, [], ["-live"]).switches.has("-live");
    const store = session.managed.threadStore();
    const threads = store.threads.filter((t) => !live || (t.state & (ThreadStateFlags.Dead | ThreadStateFlags.Unstarted)) === 0);
    return {
      backend: store.backend,
      counts: store.counts,
      threads: threads.map((t) => {
        const native = t.osId !== 0 ? session.process.threadByTid(t.osId) : undefined;
        warnLiveThreadNotInDump(t, native !== undefined);
        return {
          dbg: native ? native.index - 1 : null,
          managedId: t.managedId,
          osId: t.osId,
          address: hexAddress(t.address),
          state: hexAddress(t.state),
          gcMode: t.preemptiveGCDisabled ? "Cooperative" : "Preemptive",
          allocContext: { pointer: hexAddress(t.allocContext.pointer), limit: hexAddress(t.allocContext.limit) },
          domain: hexAddress(t.domain),
          background: (t.state & ThreadStateFlags.Background) !== 0,
          threadPoolWorker: (t.state & ThreadStateFlags.ThreadPoolWorker) !== 0,
          finalizer: t.isFinalizer,
          gc: t.isGC,
          lastThrownObjectHandle: t.lastThrownObjectHandle ? hexAddress(t.lastThrownObjectHandle) : null,
          exception: lastThrownException(session, store, t.lastThrownObjectHandle),
          nestedExceptions: t.firstNestedException !== 0,
        };
      }),
    };
  },
  render(r) {
    const c = r.counts;
    const lines = [
      `ThreadCount:      ${c.threadCount}`,
      `UnstartedThread:  ${c.unstarted}`,
      `BackgroundThread: ${c.background}`,
      `PendingThread:    ${c.pending}`,
      `DeadThread:       ${c.dead}`,
      `Hosted Runtime:   no`,
      LOCK_HEADER,
      COLUMNS,
    ];
    const ptr = (h: string) => hexDigits(parseInt(h, 16), 16).toUpperCase();
    for (const t of r.threads) {
      // SOS ends "Ukn" and each (Note) with a blank, so a row without an exception ends in one.
      const notes = [
        t.finalizer ? "(Finalizer) " : "",
        t.gc ? "(GC) " : "",
        t.threadPoolWorker ? "(Threadpool Worker) " : "",
        t.exception ? `${t.exception.type} ${hexDigits(parseInt(t.exception.address, 16), 16)}` : "",
        t.nestedExceptions ? " (nested exceptions)" : "",
      ].join("");
      lines.push(
        [
          t.dbg === null ? "XXXX" : String(t.dbg).padStart(4),
          String(t.managedId).padStart(4),
          t.osId.toString(16).padStart(8),
          ptr(t.address),
          parseInt(t.state, 16).toString(16).padStart(8),
          t.gcMode.padEnd(11),
          `${ptr(t.allocContext.pointer)}:${ptr(t.allocContext.limit)}`,
          ptr(t.domain),
          "-00001", // lock count: not tracked by current runtimes (SOS prints -1 the same way)
          "Ukn",
          notes,
        ].join(" "),
      );
    }
    return lines.join("\n");
  },
});
