// Decoders for the Linux core-dump notes (x86-64 kernel ABI: <linux/elfcore.h>, <sys/user.h>,
// <asm/siginfo.h>). These layouts belong to the kernel, not to the .NET runtime, and are fixed.
import { CorruptDataError } from "../errors.js";
import { BinaryReader, textDecoder } from "./binary-reader.js";

export const NT_PRSTATUS = 1;
export const NT_FPREGSET = 2;
export const NT_PRPSINFO = 3;
export const NT_AUXV = 6;
export const NT_SIGINFO = 0x53494749;
export const NT_FILE = 0x46494c45;

/** user_regs_struct order (sys/user.h); the index of each name is its slot in prstatus.pr_reg. */
export const X86_64_USER_REGS = [
  "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
  "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
] as const;
export type UserRegName = (typeof X86_64_USER_REGS)[number];

const PRSTATUS_REG_OFFSET = 112;
const PRSTATUS_MIN_SIZE = PRSTATUS_REG_OFFSET + X86_64_USER_REGS.length * 8;

export interface PrStatus {
  signal: number;
  pid: number;
  ppid: number;
  /** Raw register values in user_regs_struct order. */
  regs: BigUint64Array;
}

export function parsePrStatus(desc: Uint8Array): PrStatus {
  if (desc.length < PRSTATUS_MIN_SIZE) throw new CorruptDataError(`NT_PRSTATUS note is ${desc.length} bytes, expected at least ${PRSTATUS_MIN_SIZE} (x86-64)`);
  const r = new BinaryReader(desc, "NT_PRSTATUS");
  const regs = new BigUint64Array(X86_64_USER_REGS.length);
  for (let i = 0; i < regs.length; i++) regs[i] = r.u64big(PRSTATUS_REG_OFFSET + i * 8);
  return { signal: r.u16(12), pid: r.i32(32), ppid: r.i32(36), regs };
}

export interface PrPsInfo {
  state: string;
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  /** Executable name, at most 15 characters (kernel's comm). */
  fname: string;
  /** The start of the command line, at most 80 characters. */
  args: string;
}

export function parsePrPsInfo(desc: Uint8Array): PrPsInfo {
  const r = new BinaryReader(desc, "NT_PRPSINFO");
  return {
    state: String.fromCharCode(r.u8(1) || 0x3f),
    uid: r.u32(16),
    gid: r.u32(20),
    pid: r.i32(24),
    ppid: r.i32(28),
    fname: r.cstring(40, 16),
    args: r.cstring(56, 80).trim(),
  };
}

export const AT_NULL = 0;
export const AT_PHDR = 3;
export const AT_PHNUM = 5;
/** Load address of the program interpreter (the dynamic loader). */
export const AT_BASE = 7;
export const AT_ENTRY = 9;
export const AT_SYSINFO_EHDR = 33;

/** Auxiliary vector as type -> value (last wins; AT_NULL ends it). */
export function parseAuxv(desc: Uint8Array): Map<number, number> {
  const r = new BinaryReader(desc, "NT_AUXV");
  const out = new Map<number, number>();
  for (let o = 0; o + 16 <= desc.length; o += 16) {
    const type = r.u64(o);
    if (type === AT_NULL) break;
    const hi = r.u32(o + 12);
    // Values such as AT_HWCAP can exceed 2^53; only addresses matter to us, and they fit.
    if (hi < 0x20_0000) out.set(type, r.u64(o + 8));
  }
  return out;
}

export interface FileMapping {
  start: number;
  end: number;
  /** Offset in the file, in bytes. */
  fileOffset: number;
  path: string;
}

export function parseNtFile(desc: Uint8Array): FileMapping[] {
  const r = new BinaryReader(desc, "NT_FILE");
  const count = r.u64(0);
  const pageSize = r.u64(8);
  if (count * 24 + 16 > desc.length) throw new CorruptDataError(`NT_FILE note claims ${count} mappings but holds ${desc.length} bytes`);
  const out: FileMapping[] = new Array(count);
  let s = 16 + count * 24;
  for (let i = 0; i < count; i++) {
    const o = 16 + i * 24;
    // Advance by the raw byte length: a path with invalid UTF-8 decodes to a different length.
    r.check(s, 0);
    const nul = desc.indexOf(0, s);
    const pathEnd = nul < 0 ? desc.length : nul;
    const path = textDecoder.decode(desc.subarray(s, pathEnd));
    s = pathEnd + 1;
    out[i] = { start: r.u64(o), end: r.u64(o + 8), fileOffset: r.u64(o + 16) * pageSize, path };
  }
  return out;
}

export interface SigInfo {
  signo: number;
  errno: number;
  code: number;
  /** Faulting address for SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP. */
  address?: number;
  /** Sending process for signals sent by kill/tgkill. */
  senderPid?: number;
}

const FAULT_SIGNALS = new Set([4, 5, 7, 8, 11]);

export function parseSigInfo(desc: Uint8Array): SigInfo {
  const r = new BinaryReader(desc, "NT_SIGINFO");
  const info: SigInfo = { signo: r.i32(0), errno: r.i32(4), code: r.i32(8) };
  if (FAULT_SIGNALS.has(info.signo) && info.code > 0) {
    const addr = r.u64big(16);
    if (addr < 2n ** 53n) info.address = Number(addr);
  } else if (info.code <= 0) {
    info.senderPid = r.i32(16);
  }
  return info;
}

/** Selected fields of user_fpregs_struct (the FXSAVE area). */
export interface FpRegs {
  fcw: number;
  fsw: number;
  mxcsr: number;
  /** 16 XMM registers, 16 bytes each. */
  xmm: Uint8Array;
}

export function parseFpRegs(desc: Uint8Array): FpRegs {
  const r = new BinaryReader(desc, "NT_FPREGSET");
  r.check(160, 256);
  return { fcw: r.u16(0), fsw: r.u16(2), mxcsr: r.u32(24), xmm: desc.slice(160, 160 + 256) };
}

const SIGNAL_NAMES: Record<number, string> = {
  1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
  9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
  16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
  23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
  30: "SIGPWR", 31: "SIGSYS",
};

export function signalName(signo: number): string {
  return SIGNAL_NAMES[signo] ?? (signo >= 34 && signo <= 64 ? `SIGRTMIN+${signo - 34}` : `signal ${signo}`);
}
