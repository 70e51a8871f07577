// The native stack walker. For each frame it tries, in order: the kernel's signal trampoline
// (registers restored from the ucontext on the stack), DWARF CFI, the frame-pointer chain,
// then a validated stack scan. Every frame records how it was found; the walk ends at the
// thread's root (return address undefined or zero), on a loop, on no progress, or when
// memory runs out.
import type { Memory } from "../dump/address-space.js";
import { cfiRowFor, type CfiRow, type EhFrameIndex } from "./cfi.js";
import { evaluateExpression, type ExpressionContext } from "./dwarf-expression.js";
import { CALLEE_SAVED, DWARF_REG, DWARF_REG_COUNT, emptyRegisters, type RegisterSet } from "./registers.js";
import { unwindWindowsX64, type ManagedFunction } from "./windows-unwind.js";
import { throwIfCancelled } from "../cancellation.js";
import { rethrowIfBug } from "../errors.js";
import { MAX_CACHED_CFI_ROWS, MAX_STACK_FRAMES } from "../limits.js";

export type FrameTrust = "context" | "cfi" | "signal" | "frame_pointer" | "scan";

export interface UnwoundFrame {
  ip: number;
  sp: number;
  trust: FrameTrust;
  /** True when `ip` is exact (thread context, interrupted by a signal), not a return address. */
  exact: boolean;
  /** This frame is the kernel's rt_sigreturn trampoline (gdb: "<signal handler called>"). */
  signalTrampoline: boolean;
  registers: RegisterSet;
}

export type StopReason = "root" | "invalid-ip" | "no-progress" | "loop" | "unreadable" | "frame-limit";

export interface Backtrace {
  frames: UnwoundFrame[];
  stop: StopReason;
}

export interface CodeMap {
  /** Is `address` inside executable memory of the process? */
  isCode(address: number): boolean;
  /** CFI index of the module containing `address`. */
  cfiAt(address: number): EhFrameIndex | undefined;
  /** Windows-format unwind data for managed (JIT'd / ReadyToRun) code at `address`, if known. */
  managedFunction?(address: number): ManagedFunction | undefined;
}

export interface UnwindOptions {
  maxFrames?: number;
  /** Stack slots examined by a scan. */
  scanWords?: number;
}

const { rsp: RSP, rbp: RBP, rip: RIP } = DWARF_REG;

/** mov $15,%rax; syscall: the body of glibc's and musl's __restore_rt (rt_sigreturn). */
const SIGRETURN_CODE = [0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05];
/** ucontext_t.uc_mcontext.gregs offset and greg slots (kernel struct sigcontext order). */
const UC_MCONTEXT_GREGS = 40;
const GREG_SLOT: Record<number, number> = {
  8: 0, 9: 1, 10: 2, 11: 3, 12: 4, 13: 5, 14: 6, 15: 7, // r8..r15
  [DWARF_REG.rdi]: 8, [DWARF_REG.rsi]: 9, [RBP]: 10, [DWARF_REG.rbx]: 11, [DWARF_REG.rdx]: 12,
  [DWARF_REG.rax]: 13, [DWARF_REG.rcx]: 14, [RSP]: 15, [RIP]: 16,
};

export class Unwinder {
  private readonly rowCache = new Map<number, CfiRow | null>();
  private readonly trampolineCache = new Map<number, boolean>();

  constructor(
    private readonly mem: Memory,
    private readonly code: CodeMap,
  ) {}

  unwind(context: RegisterSet, options: UnwindOptions = {}): Backtrace {
    const maxFrames = options.maxFrames ?? MAX_STACK_FRAMES;
    const frames: UnwoundFrame[] = [];
    let frame: UnwoundFrame = {
      ip: context[RIP]!, sp: context[RSP]!, trust: "context", exact: true,
      signalTrampoline: false, registers: context,
    };
    for (;;) {
      throwIfCancelled();
      frame.signalTrampoline = this.isSignalTrampoline(frame.ip);
      frames.push(frame);
      if (frames.length >= maxFrames) return { frames, stop: "frame-limit" };
      // Callers found by CFI, frame pointers or scanning always have a higher sp; only a signal
      // context can move sp down (sigaltstack), so only then can the walk revisit a frame.
      if (frame.trust === "signal" && frames.some((f, i) => i < frames.length - 1 && f.ip === frame.ip && f.sp === frame.sp)) {
        return { frames, stop: "loop" };
      }

      const next = this.caller(frame, options.scanWords ?? 64);
      if (typeof next === "string") return { frames, stop: next };
      frame = next;
    }
  }

  /** The caller of `frame`, or why there is none. */
  private caller(frame: UnwoundFrame, scanWords: number): UnwoundFrame | StopReason {
    if (frame.signalTrampoline) return this.fromSignalContext(frame) ?? "unreadable";

    const lookupPc = frame.exact ? frame.ip : frame.ip - 1;
    const row = this.cfiRow(lookupPc);
    let cfiWentBackwards = false;
    if (row) {
      const next = this.applyCfi(frame, row);
      if (next === "root") return "root";
      if (next && this.plausible(frame, next)) return next;
      cfiWentBackwards = next !== undefined && next.sp <= frame.sp;
    }
    if (!row) {
      const managed = this.byManagedUnwindInfo(frame, lookupPc);
      if (managed) return managed;
    }
    const byFp = this.byFramePointer(frame);
    if (byFp) return byFp;
    const byScan = this.byScan(frame, scanWords);
    if (byScan) return byScan;
    if (Number.isNaN(frame.sp) || this.mem.tryRead(frame.sp, 8) === undefined) return "unreadable";
    return cfiWentBackwards ? "no-progress" : "invalid-ip";
  }

  private cfiRow(pc: number): CfiRow | undefined {
    const cached = this.rowCache.get(pc);
    if (cached !== undefined) return cached ?? undefined;
    let row: CfiRow | null = null;
    try {
      const fde = this.code.cfiAt(pc)?.findFde(pc);
      if (fde) row = cfiRowFor(fde, pc);
    } catch (e) {
      rethrowIfBug(e);
      row = null; // damaged CFI: fall back to other methods
    }
    if (this.rowCache.size > MAX_CACHED_CFI_ROWS) this.rowCache.clear();
    this.rowCache.set(pc, row);
    return row ?? undefined;
  }

  private applyCfi(frame: UnwoundFrame, row: CfiRow): UnwoundFrame | "root" | undefined {
    const regs = frame.registers;
    const ctx = this.expressionContext(regs);
    let cfa: number;
    try {
      if (row.cfa.kind === "register") cfa = regs[row.cfa.reg]! + row.cfa.offset;
      else cfa = toAddress(evaluateExpression(row.cfa.expr, ctx));
    } catch (e) {
      rethrowIfBug(e);
      return undefined;
    }
    if (Number.isNaN(cfa)) return undefined;

    const caller = emptyRegisters();
    for (const r of CALLEE_SAVED) caller[r] = regs[r]!;
    caller[RSP] = cfa;
    let raUndefined = false;
    for (const [reg, rule] of row.rules) {
      if (reg >= DWARF_REG_COUNT) continue;
      let value = NaN;
      try {
        switch (rule.kind) {
          case "undefined":
            if (reg === row.returnAddressRegister) raUndefined = true;
            break;
          case "same": value = regs[reg]!; break;
          case "offset": value = this.mem.tryReadPointer(cfa + rule.offset); break;
          case "val_offset": value = cfa + rule.offset; break;
          case "register": value = regs[rule.reg] ?? NaN; break;
          case "expression": value = this.mem.tryReadPointer(toAddress(evaluateExpression(rule.expr, ctx, [BigInt(cfa)]))); break;
          case "val_expression": value = toAddress(evaluateExpression(rule.expr, ctx, [BigInt(cfa)])); break;
        }
      } catch (e) {
        rethrowIfBug(e);
        value = NaN;
      }
      caller[reg] = value;
    }
    if (raUndefined) return "root";
    const ra = row.returnAddressRegister === RIP ? caller[RIP]! : caller[row.returnAddressRegister] ?? NaN;
    if (ra === 0) return "root";
    caller[RIP] = ra;
    return { ip: ra, sp: cfa, trust: "cfi", exact: row.signalFrame, signalTrampoline: false, registers: caller };
  }

  /** Caller from the unwind codes the JIT or crossgen wrote for managed code (no DWARF for it). */
  private byManagedUnwindInfo(frame: UnwoundFrame, pc: number): UnwoundFrame | undefined {
    const fn = this.code.managedFunction?.(pc);
    if (!fn) return undefined;
    let regs: RegisterSet | undefined;
    try {
      regs = unwindWindowsX64(this.mem, fn, pc, frame.registers);
    } catch (e) {
      rethrowIfBug(e);
      return undefined; // damaged unwind data: frame pointers and scanning remain
    }
    if (!regs) return undefined;
    const next: UnwoundFrame = { ip: regs[RIP]!, sp: regs[RSP]!, trust: "cfi", exact: false, signalTrampoline: false, registers: regs };
    return this.plausible(frame, next) ? next : undefined;
  }

  /** Caller from the classic rbp chain: [rbp] = caller's rbp, [rbp+8] = return address. */
  private byFramePointer(frame: UnwoundFrame): UnwoundFrame | undefined {
    const bp = frame.registers[RBP]!;
    if (Number.isNaN(bp) || bp < frame.sp || bp - frame.sp > 1 << 24 || bp % 8 !== 0) return undefined;
    const callerBp = this.mem.tryReadPointer(bp);
    const ra = this.mem.tryReadPointer(bp + 8);
    if (Number.isNaN(ra) || !this.code.isCode(ra)) return undefined;
    const regs = emptyRegisters();
    for (const r of CALLEE_SAVED) regs[r] = frame.registers[r]!;
    regs[RBP] = callerBp;
    regs[RSP] = bp + 16;
    regs[RIP] = ra;
    const next: UnwoundFrame = { ip: ra, sp: bp + 16, trust: "frame_pointer", exact: false, signalTrampoline: false, registers: regs };
    return this.plausible(frame, next) ? next : undefined;
  }

  /** Caller from the first stack slot that holds a return address just after a call instruction. */
  private byScan(frame: UnwoundFrame, words: number): UnwoundFrame | undefined {
    const sp = frame.sp;
    if (Number.isNaN(sp)) return undefined;
    const stack = this.mem.tryRead(sp, words * 8) ?? this.mem.tryRead(sp, 8);
    if (!stack) return undefined;
    const view = new DataView(stack.buffer, stack.byteOffset, stack.byteLength);
    for (let i = 0; i * 8 + 8 <= stack.length; i++) {
      const hi = view.getUint32(i * 8 + 4, true);
      if (hi >= 0x20_0000) continue;
      const value = hi * 0x1_0000_0000 + view.getUint32(i * 8, true);
      if (!this.code.isCode(value) || !this.followsCall(value)) continue;
      const regs = emptyRegisters();
      for (const r of CALLEE_SAVED) regs[r] = frame.registers[r]!;
      regs[RSP] = sp + i * 8 + 8;
      regs[RIP] = value;
      return { ip: value, sp: regs[RSP]!, trust: "scan", exact: false, signalTrampoline: false, registers: regs };
    }
    return undefined;
  }

  /** Is the instruction ending at `ra` a call (e8 rel32, or ff /2 in any addressing form)? */
  followsCall(ra: number): boolean {
    const b = this.mem.tryRead(ra - 7, 7);
    if (!b) return false;
    if (b[2] === 0xe8) return true; // call rel32 (5 bytes)
    for (let len = 2; len <= 7; len++) {
      const at = 7 - len;
      if (b[at] === 0xff && callLength(b, at) === len) return true;
      if (len >= 3 && b[at] >= 0x40 && b[at]! <= 0x4f && b[at + 1] === 0xff && callLength(b, at + 1) === len - 1) return true;
    }
    return false;
  }

  isSignalTrampoline(ip: number): boolean {
    if (Number.isNaN(ip)) return false;
    let known = this.trampolineCache.get(ip);
    if (known === undefined) {
      const code = this.mem.tryRead(ip, SIGRETURN_CODE.length);
      known = code !== undefined && SIGRETURN_CODE.every((v, i) => code[i] === v);
      this.trampolineCache.set(ip, known);
    }
    return known;
  }

  /** Registers saved by the kernel in the rt_sigframe's ucontext (at sp on trampoline entry). */
  private fromSignalContext(frame: UnwoundFrame): UnwoundFrame | undefined {
    const gregs = this.mem.tryRead(frame.sp + UC_MCONTEXT_GREGS, 23 * 8);
    if (!gregs) return undefined;
    const view = new DataView(gregs.buffer, gregs.byteOffset, gregs.byteLength);
    const regs = emptyRegisters();
    for (const [dwarf, slot] of Object.entries(GREG_SLOT)) {
      const v = view.getBigUint64(slot * 8, true);
      regs[Number(dwarf)] = v < 2n ** 53n ? Number(v) : NaN;
    }
    const ip = regs[RIP]!;
    if (Number.isNaN(ip) || ip === 0) return undefined;
    return { ip, sp: regs[RSP]!, trust: "signal", exact: true, signalTrampoline: false, registers: regs };
  }

  /** Sanity checks every recovered caller must pass: forward progress and a code address. */
  private plausible(callee: UnwoundFrame, caller: UnwoundFrame): boolean {
    if (Number.isNaN(caller.ip) || Number.isNaN(caller.sp) || caller.ip < 4096) return false;
    if (caller.sp <= callee.sp) return false;
    return this.code.isCode(caller.ip);
  }

  private expressionContext(regs: RegisterSet): ExpressionContext {
    return {
      register: (r) => {
        const v = regs[r];
        return v === undefined || Number.isNaN(v) ? undefined : BigInt(v);
      },
      readMemory: (address, size) => {
        const bytes = address < 2n ** 53n ? this.mem.tryRead(Number(address), size) : undefined;
        if (!bytes) return undefined;
        let v = 0n;
        for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
        return v;
      },
    };
  }
}

function toAddress(v: bigint | undefined): number {
  return v !== undefined && v < 2n ** 53n ? Number(v) : NaN;
}

/** Length of an `ff /2` (call r/m64) instruction whose opcode is at b[at], or 0 if it is not one. */
function callLength(b: Uint8Array, at: number): number {
  const modrm = b[at + 1];
  if (modrm === undefined || ((modrm >> 3) & 7) !== 2) return 0;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return 2;
  let len = 2;
  if (rm === 4) {
    const sib = b[at + 2];
    if (sib === undefined) return 0;
    len += 1;
    if (mod === 0 && (sib & 7) === 5) len += 4;
  } else if (mod === 0 && rm === 5) {
    len += 4; // rip-relative
  }
  if (mod === 1) len += 1;
  if (mod === 2) len += 4;
  return len;
}
