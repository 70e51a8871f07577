// `register read [NAME...]` (lldb): the current thread's registers as saved in the dump.
import { X86_64_USER_REGS } from "../../dump/notes.js";
import { CommandError } from "../../errors.js";
import { defineCommand, hexPadded } from "../command.js";

export interface RegisterReadResult {
  tid: number;
  registers: { name: string; value: string }[];
}

/** Display order of lldb's "General Purpose Registers" for x86-64. */
const ORDER = [
  "rax", "rbx", "rcx", "rdx", "rdi", "rsi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
  "rip", "eflags", "cs", "fs", "gs", "ss", "ds", "es", "fs_base", "gs_base", "orig_rax",
];

export const registerRead = defineCommand<RegisterReadResult>({
  names: ["register read"],
  summary: "Show the current thread's registers (all, or the ones named)",
  usage: "register read [NAME...]",
  run(session, args) {
    const t = session.process.thread(session.currentThread)!;
    const wanted = args.length > 0 ? args.map((a) => a.replace(/^\$/, "").toLowerCase()) : ORDER;
    const registers = wanted.map((name) => {
      const slot = (X86_64_USER_REGS as readonly string[]).indexOf(name);
      if (slot < 0) throw new CommandError(`unknown register '${name}' (x86-64: ${ORDER.join(", ")})`);
      return { name, value: hexPadded(t.core.status.regs[slot]!) };
    });
    return { tid: t.tid, registers };
  },
  render(r) {
    return ["General Purpose Registers:", ...r.registers.map((x) => `${x.name.padStart(8)} = ${x.value}`)].join("\n");
  },
});
