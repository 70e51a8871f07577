// x86-64 register sets for unwinding, indexed by DWARF register number (System V psABI,
// figure 3.36). Values are JS numbers; NaN means "not known in this frame" (callers only
// claim registers they actually recovered).
import { X86_64_USER_REGS } from "../dump/notes.js";

export const DWARF_REG = {
  rax: 0, rdx: 1, rcx: 2, rbx: 3, rsi: 4, rdi: 5, rbp: 6, rsp: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15, rip: 16,
} as const;
export const DWARF_REG_COUNT = 17;

/** Registers that a called function must preserve: unknown CFI rules mean "same value". */
export const CALLEE_SAVED = [DWARF_REG.rbx, DWARF_REG.rbp, DWARF_REG.r12, DWARF_REG.r13, DWARF_REG.r14, DWARF_REG.r15];

/** A plain array: one is allocated per frame, and small arrays are much cheaper than typed ones. */
export type RegisterSet = number[];

export function emptyRegisters(): RegisterSet {
  return [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN];
}

const TWO_53 = 2n ** 53n;

/** Unwinding registers from a thread's NT_PRSTATUS user_regs_struct. */
export function registersFromUserRegs(regs: BigUint64Array): RegisterSet {
  const out = emptyRegisters();
  for (let i = 0; i < X86_64_USER_REGS.length; i++) {
    const name = X86_64_USER_REGS[i]!;
    const dwarf = (DWARF_REG as Record<string, number>)[name];
    if (dwarf !== undefined) out[dwarf] = regs[i]! < TWO_53 ? Number(regs[i]!) : NaN;
  }
  return out;
}
