// x64 unwinding from Windows-format unwind data (UNWIND_INFO + unwind codes, the PE/COFF x64
// exception-handling format), which .NET's JIT and ReadyToRun images emit on Linux too. Given a
// function's unwind info and the offset of the pc in it, recover the caller's registers the way
// RtlVirtualUnwind does (prolog-aware; epilogs are not detected, so a thread stopped inside an
// epilog may unwind wrongly: blocked threads never are).
import type { Memory } from "../dump/address-space.js";
import { CorruptDataError } from "../errors.js";
import { DWARF_REG, emptyRegisters, type RegisterSet } from "./registers.js";
import { MAX_UNWIND_INFO_CHAIN } from "../limits.js";

/** Windows x64 register numbers (as in unwind codes) -> DWARF numbers used by RegisterSet. */
const WIN_TO_DWARF = [
  DWARF_REG.rax, DWARF_REG.rcx, DWARF_REG.rdx, DWARF_REG.rbx, DWARF_REG.rsp, DWARF_REG.rbp, DWARF_REG.rsi, DWARF_REG.rdi,
  DWARF_REG.r8, DWARF_REG.r9, DWARF_REG.r10, DWARF_REG.r11, DWARF_REG.r12, DWARF_REG.r13, DWARF_REG.r14, DWARF_REG.r15,
];

const UWOP_PUSH_NONVOL = 0;
const UWOP_ALLOC_LARGE = 1;
const UWOP_ALLOC_SMALL = 2;
const UWOP_SET_FPREG = 3;
const UWOP_SAVE_NONVOL = 4;
const UWOP_SAVE_NONVOL_FAR = 5;
const UWOP_EPILOG = 6;
const UWOP_SAVE_XMM128 = 8;
const UWOP_SAVE_XMM128_FAR = 9;
const UWOP_PUSH_MACHFRAME = 10;
const UNW_FLAG_CHAININFO = 4;

export interface ManagedFunction {
  /** Address of the function's (or funclet's) first instruction. */
  start: number;
  /** Address of its UNWIND_INFO. */
  unwindInfo: number;
  /** Base that chained RUNTIME_FUNCTION RVAs are relative to. */
  imageBase: number;
}

/**
 * Registers of the caller of a frame at `pc` in `fn`, or undefined when the unwind data or the
 * stack cannot be read. Callee-saved registers not restored by the codes keep their values.
 */
export function unwindWindowsX64(mem: Memory, fn: ManagedFunction, pc: number, regs: RegisterSet): RegisterSet | undefined {
  const out = emptyRegisters();
  for (let r = 0; r < out.length; r++) out[r] = regs[r]!;
  let rsp = regs[DWARF_REG.rsp]!;
  let info = fn.unwindInfo;
  let offsetInFunction = pc - fn.start;
  let machineFrame = false;
  for (let chain = 0; chain <= MAX_UNWIND_INFO_CHAIN; chain++) {
    const head = mem.tryRead(info, 4);
    if (!head) return undefined;
    const flags = head[0]! >> 3;
    const prologSize = head[1]!;
    const codeCount = head[2]!;
    const frameRegister = head[3]! & 0xf;
    const frameOffset = (head[3]! >> 4) * 16;
    const codes = codeCount > 0 ? mem.tryRead(info + 4, codeCount * 2) : new Uint8Array(0);
    if (!codes) return undefined;
    // The frame base (establisher frame): the frame register minus its offset, once the prolog set it.
    const frameBase = frameRegister !== 0 ? out[WIN_TO_DWARF[frameRegister]!]! - frameOffset : rsp;
    const inProlog = offsetInFunction < prologSize;
    for (let i = 0; i < codeCount; ) {
      const codeOffset = codes[i * 2]!;
      const op = codes[i * 2 + 1]! & 0xf;
      const opInfo = codes[i * 2 + 1]! >> 4;
      const slots = slotCount(op, opInfo);
      if (inProlog && codeOffset > offsetInFunction) {
        i += slots; // not executed yet
        continue;
      }
      const slot16 = (k: number) => codes[(i + k) * 2]! | (codes[(i + k) * 2 + 1]! << 8);
      switch (op) {
        case UWOP_PUSH_NONVOL:
          out[WIN_TO_DWARF[opInfo]!] = mem.tryReadPointer(rsp);
          rsp += 8;
          break;
        case UWOP_ALLOC_LARGE:
          rsp += opInfo === 0 ? slot16(1) * 8 : slot16(1) + slot16(2) * 65536;
          break;
        case UWOP_ALLOC_SMALL:
          rsp += opInfo * 8 + 8;
          break;
        case UWOP_SET_FPREG:
          rsp = frameBase;
          break;
        case UWOP_SAVE_NONVOL:
          out[WIN_TO_DWARF[opInfo]!] = mem.tryReadPointer(frameBase + slot16(1) * 8);
          break;
        case UWOP_SAVE_NONVOL_FAR:
          out[WIN_TO_DWARF[opInfo]!] = mem.tryReadPointer(frameBase + slot16(1) + slot16(2) * 65536);
          break;
        case UWOP_EPILOG:
        case UWOP_SAVE_XMM128:
        case UWOP_SAVE_XMM128_FAR:
          break; // epilog descriptors and XMM saves do not move rsp or integer registers
        case UWOP_PUSH_MACHFRAME: {
          // An interrupt/exception frame: [rsp(+8 with error code)] = rip, then cs, rflags, rsp.
          const base = rsp + (opInfo ? 8 : 0);
          out[DWARF_REG.rip] = mem.tryReadPointer(base);
          rsp = mem.tryReadPointer(base + 24);
          machineFrame = true;
          break;
        }
        default:
          throw new CorruptDataError(`unwind info at 0x${info.toString(16)}: unknown unwind code ${op}`);
      }
      i += slots;
    }
    if (!(flags & UNW_FLAG_CHAININFO)) break;
    // A chained RUNTIME_FUNCTION follows the codes (aligned to 4 bytes): unwind the parent too.
    const chained = mem.tryRead(info + 4 + Math.ceil(codeCount / 2) * 4, 12);
    if (!chained) return undefined;
    const cv = new DataView(chained.buffer, chained.byteOffset, 12);
    info = fn.imageBase + cv.getUint32(8, true);
    offsetInFunction = Number.MAX_SAFE_INTEGER; // the parent's prolog has fully run
    if (chain === MAX_UNWIND_INFO_CHAIN) return undefined;
  }
  if (!machineFrame) {
    out[DWARF_REG.rip] = mem.tryReadPointer(rsp);
    rsp += 8;
  }
  out[DWARF_REG.rsp] = rsp;
  return Number.isNaN(out[DWARF_REG.rip]!) || Number.isNaN(rsp) ? undefined : out;
}

/** Unwind-code slots an operation takes (itself plus its operands). */
function slotCount(op: number, opInfo: number): number {
  switch (op) {
    case UWOP_ALLOC_LARGE:
      return opInfo === 0 ? 2 : 3;
    case UWOP_SAVE_NONVOL:
    case UWOP_SAVE_XMM128:
    case UWOP_EPILOG:
      return 2;
    case UWOP_SAVE_NONVOL_FAR:
    case UWOP_SAVE_XMM128_FAR:
      return 3;
    default:
      return 1;
  }
}
