// `thread list` (lldb): every thread of the dump with its id, current location and signal.
import { X86_64_USER_REGS, signalName } from "../../dump/notes.js";
import { defineCommand, hexAddress, hexPadded } from "../command.js";
import { describeLocation, locationResult, type LocationResult } from "./location.js";

const RIP_SLOT = X86_64_USER_REGS.indexOf("rip");

export interface ThreadListResult {
  pid: number | null;
  threads: ({ index: number; tid: number; current: boolean; ip: string; signal: string | null } & LocationResult)[];
}

export const threadList = defineCommand<ThreadListResult>({
  names: ["thread list"],
  summary: "List the threads of the dump (lldb's thread list)",
  usage: "thread list",
  run(session) {
    const p = session.process;
    return {
      pid: p.pid ?? null,
      threads: p.threads.map((t) => {
        const ip = Number(t.core.status.regs[RIP_SLOT]!);
        const signo = t.core.siginfo?.signo || t.core.status.signal;
        return {
          index: t.index, tid: t.tid, current: t.index === session.currentThread, ip: hexAddress(ip),
          signal: signo ? signalName(signo) : null, ...locationResult(p.locate(ip)),
        };
      }),
    };
  },
  render(r) {
    const lines = [`Process ${r.pid ?? "?"} stopped`];
    for (const t of r.threads) {
      const stop = t.signal ? `, stop reason = signal ${t.signal}` : "";
      lines.push(`${t.current ? "*" : " "} thread #${t.index}: tid = ${t.tid}, ${hexPadded(parseInt(t.ip, 16))} ${describeLocation(t)}${stop}`);
    }
    return lines.join("\n");
  },
});
