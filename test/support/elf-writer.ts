// Writers for synthetic ELF core dumps (in the spirit of rust-minidump's minidump-synth): tests
// describe threads, process info, auxv, NT_FILE mappings and memory, and get the bytes of an
// x86-64 little-endian core laid out the way the kernel writes one:
//
//   ELF header | program headers (PT_NOTE first, then PT_LOAD) | notes | segment data | [shdr 0]
//
// Layouts follow the kernel ABI (<linux/elfcore.h>, <sys/user.h>, <asm/siginfo.h>), written
// independently of src/dump so the parsers are checked against the ABI, not against themselves.
// `overrides` and the returned `layout` let tests build damaged variants.
import { X86_64_USER_REGS, type UserRegName } from "../../src/dump/notes.js";

export const NT_PRSTATUS = 1;
export const NT_FPREGSET = 2;
export const NT_PRPSINFO = 3;
export const NT_AUXV = 6;
export const NT_SIGINFO = 0x53494749;
export const NT_FILE = 0x46494c45;

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export const PRSTATUS_SIZE = 336;
export const PRSTATUS_REG_OFFSET = 112;
export const PRPSINFO_SIZE = 136;
export const SIGINFO_SIZE = 128;
export const FPREGSET_SIZE = 512;

export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SHDR_SIZE = 64;

export interface SigInfoSpec {
  signo: number;
  code: number;
  errno?: number;
  /** si_addr for fault signals (written at offset 16). */
  address?: number | bigint;
  /** si_pid for kill/tgkill signals (written at offset 16; si_uid at 20). */
  senderPid?: number;
  senderUid?: number;
}

export interface ThreadSpec {
  tid: number;
  /** Register values by user_regs_struct name; unnamed registers are 0. */
  registers?: Partial<Record<UserRegName, number | bigint>>;
  /** pr_cursig (and pr_info.si_signo). */
  signal?: number;
  ppid?: number;
  /** An NT_SIGINFO note written right after this thread's NT_PRSTATUS. */
  siginfo?: SigInfoSpec;
  /** Write an NT_FPREGSET (512-byte FXSAVE area) for this thread, with these MXCSR / XMM bytes. */
  fpregs?: { mxcsr?: number; fcw?: number; xmm?: Uint8Array };
}

export interface PrPsInfoSpec {
  pid: number;
  ppid?: number;
  uid?: number;
  gid?: number;
  /** pr_sname, e.g. "R", "S". */
  state?: string;
  /** Executable name (kernel comm), at most 15 bytes kept. */
  fname: string;
  /** Command line, at most 79 bytes kept (NUL-terminated in 80). */
  args: string;
}

export interface FileMappingSpec {
  start: number;
  end: number;
  /** Offset in the file in pages (as NT_FILE stores it). */
  pageOffset: number;
  path: string;
}

export interface SegmentSpec {
  vaddr: number | bigint;
  /** Memory contents; also the default memsz and filesz. */
  bytes?: Uint8Array;
  /** Default: bytes.length. */
  memsz?: number;
  /**
   * Bytes written to the file (default bytes.length). Smaller than memsz simulates pages the
   * dump left out (gcore/createdump skip file-backed pages); 0 writes none.
   */
  filesz?: number;
  /** Default PF_R | PF_W. */
  flags?: number;
}

export interface ExtraNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface RawOverrides {
  /** e_ident[EI_CLASS] (2 = 64-bit, 1 = 32-bit). */
  elfClass?: number;
  /** e_ident[EI_DATA] (1 = little-endian, 2 = big-endian). */
  elfData?: number;
  /** e_type (default ET_CORE). */
  type?: number;
  /** e_machine (default EM_X86_64). */
  machine?: number;
  /** e_phnum as written (default: the real count, or PN_XNUM with `pnXnum`). */
  phnum?: number;
  /** e_phentsize as written (default 56). */
  phentsize?: number;
  /** e_phoff as written (default 64). */
  phoff?: number;
  /** sh_info of section header 0 with `pnXnum` (default: the real count). */
  xnumCount?: number;
}

export interface CoreSpec {
  threads: ThreadSpec[];
  prpsinfo?: PrPsInfoSpec;
  /** Auxiliary vector entries [type, value]; AT_NULL is appended. */
  auxv?: [number, number | bigint][];
  /** NT_FILE mappings. */
  files?: FileMappingSpec[];
  /** NT_FILE page size (default 4096). */
  pageSize?: number;
  segments?: SegmentSpec[];
  /** Notes appended after the standard ones (any owner). */
  extraNotes?: ExtraNote[];
  /** Store the program-header count in section header 0 (e_phnum = PN_XNUM = 0xffff). */
  pnXnum?: boolean;
  /** Alignment of segment data in the file (default 4096 like the kernel; 8 keeps fuzz inputs small). */
  segmentAlign?: number;
  /** Where the PT_NOTE data goes: before the memory (kernel, default) or after it (gdb's gcore). */
  notesLast?: boolean;
  overrides?: RawOverrides;
}

export interface NoteLayout {
  name: string;
  type: number;
  /** File offset of the note header (namesz, descsz, type). */
  offset: number;
  /** File offset of the descriptor. */
  descOffset: number;
  descSize: number;
}

export interface CoreLayout {
  phoff: number;
  /** Real number of program headers (PT_NOTE is index 0; PT_LOADs follow in spec order). */
  phnum: number;
  notesOffset: number;
  notesSize: number;
  notes: NoteLayout[];
  /** File offset of each spec segment's data (spec order). */
  segmentOffsets: number[];
  /** Bytes of each spec segment written to the file (its p_filesz). */
  segmentFileSizes: number[];
  /** Section header 0 offset (pnXnum only). */
  shoff?: number;
  /** Total file size. */
  size: number;
}

export interface WrittenCore {
  bytes: Uint8Array;
  layout: CoreLayout;
}

/** The bytes of a synthetic core. */
export function writeCore(spec: CoreSpec): Uint8Array {
  return writeCoreWithLayout(spec).bytes;
}

/** The bytes of a synthetic core and where each part landed (for building damaged variants). */
export function writeCoreWithLayout(spec: CoreSpec): WrittenCore {
  const notes = buildNotes(spec);
  const noteBytes = encodeNotes(notes);
  const segments = spec.segments ?? [];
  const align = spec.segmentAlign ?? 4096;
  const phnum = 1 + segments.length;
  const phoff = EHDR_SIZE;
  const afterPhdrs = phoff + phnum * PHDR_SIZE;

  // Place notes and segment data.
  const segmentOffsets: number[] = [];
  const fileSizes = segments.map((s) => s.filesz ?? s.bytes?.length ?? 0);
  let pos = afterPhdrs;
  let notesOffset = 0;
  if (!spec.notesLast) {
    notesOffset = pos;
    pos += noteBytes.bytes.length;
  }
  for (let i = 0; i < segments.length; i++) {
    pos = alignUp(pos, align);
    segmentOffsets.push(pos);
    pos += fileSizes[i]!;
  }
  if (spec.notesLast) {
    pos = alignUp(pos, 4);
    notesOffset = pos;
    pos += noteBytes.bytes.length;
  }
  let shoff: number | undefined;
  if (spec.pnXnum) {
    pos = alignUp(pos, 8);
    shoff = pos;
    pos += SHDR_SIZE;
  }
  const size = pos;

  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const o = spec.overrides ?? {};

  // ELF header
  out.set([0x7f, 0x45, 0x4c, 0x46], 0);
  out[4] = o.elfClass ?? 2;
  out[5] = o.elfData ?? 1;
  out[6] = 1; // EV_CURRENT
  out[7] = 0; // ELFOSABI_SYSV
  v.setUint16(16, o.type ?? ET_CORE, true);
  v.setUint16(18, o.machine ?? EM_X86_64, true);
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(24, 0n, true); // e_entry
  v.setBigUint64(32, BigInt(o.phoff ?? phoff), true);
  v.setBigUint64(40, BigInt(shoff ?? 0), true);
  v.setUint32(48, 0, true); // e_flags
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, o.phentsize ?? PHDR_SIZE, true);
  v.setUint16(56, o.phnum ?? (spec.pnXnum ? 0xffff : phnum), true);
  v.setUint16(58, spec.pnXnum ? SHDR_SIZE : 0, true);
  v.setUint16(60, spec.pnXnum ? 1 : 0, true);
  v.setUint16(62, 0, true);

  // Program headers
  writePhdr(v, phoff, { type: PT_NOTE, flags: PF_R, offset: notesOffset, vaddr: 0n, filesz: noteBytes.bytes.length, memsz: 0, align: 4 });
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    writePhdr(v, phoff + (i + 1) * PHDR_SIZE, {
      type: PT_LOAD,
      flags: s.flags ?? PF_R | PF_W,
      offset: segmentOffsets[i]!,
      vaddr: BigInt(s.vaddr),
      filesz: fileSizes[i]!,
      memsz: s.memsz ?? s.bytes?.length ?? 0,
      align: align,
    });
  }

  // Notes and memory
  out.set(noteBytes.bytes, notesOffset);
  for (let i = 0; i < segments.length; i++) {
    const b = segments[i]!.bytes ?? new Uint8Array(0);
    out.set(b.subarray(0, Math.min(b.length, fileSizes[i]!)), segmentOffsets[i]!);
  }

  // Section header 0 for PN_XNUM (as the kernel writes it: SHT_NULL, sh_size = e_shnum,
  // sh_link = e_shstrndx, sh_info = the real program-header count).
  if (shoff !== undefined) {
    v.setBigUint64(shoff + 32, 1n, true); // sh_size
    v.setUint32(shoff + 40, 0, true); // sh_link
    v.setUint32(shoff + 44, o.xnumCount ?? phnum, true); // sh_info
  }

  return {
    bytes: out,
    layout: {
      phoff,
      phnum,
      notesOffset,
      notesSize: noteBytes.bytes.length,
      notes: noteBytes.offsets.map((n) => ({ ...n, offset: n.offset + notesOffset, descOffset: n.descOffset + notesOffset })),
      segmentOffsets,
      segmentFileSizes: fileSizes,
      shoff,
      size,
    },
  };
}

interface Phdr {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

function writePhdr(v: DataView, at: number, p: Phdr): void {
  v.setUint32(at, p.type, true);
  v.setUint32(at + 4, p.flags, true);
  v.setBigUint64(at + 8, BigInt(p.offset), true);
  v.setBigUint64(at + 16, p.vaddr, true);
  v.setBigUint64(at + 24, 0n, true); // p_paddr
  v.setBigUint64(at + 32, BigInt(p.filesz), true);
  v.setBigUint64(at + 40, BigInt(p.memsz), true);
  v.setBigUint64(at + 48, BigInt(p.align), true);
}

/** The standard notes in kernel order: per thread PRSTATUS [FPREGSET] [SIGINFO], then PRPSINFO, AUXV, FILE. */
function buildNotes(spec: CoreSpec): ExtraNote[] {
  const notes: ExtraNote[] = [];
  for (const t of spec.threads) {
    notes.push({ name: "CORE", type: NT_PRSTATUS, desc: prstatus(t) });
    if (t.fpregs) notes.push({ name: "CORE", type: NT_FPREGSET, desc: fpregset(t.fpregs) });
    if (t.siginfo) notes.push({ name: "CORE", type: NT_SIGINFO, desc: siginfo(t.siginfo) });
  }
  if (spec.prpsinfo) notes.push({ name: "CORE", type: NT_PRPSINFO, desc: prpsinfo(spec.prpsinfo) });
  if (spec.auxv) notes.push({ name: "CORE", type: NT_AUXV, desc: auxv(spec.auxv) });
  if (spec.files) notes.push({ name: "CORE", type: NT_FILE, desc: ntFile(spec.files, spec.pageSize ?? 4096) });
  notes.push(...(spec.extraNotes ?? []));
  return notes;
}

/** Encode note records: namesz includes the NUL, name and desc each padded to 4 bytes. */
export function encodeNotes(notes: ExtraNote[]): { bytes: Uint8Array; offsets: NoteLayout[] } {
  const parts: Uint8Array[] = [];
  const offsets: NoteLayout[] = [];
  let pos = 0;
  for (const n of notes) {
    const name = new TextEncoder().encode(n.name);
    const namesz = name.length + 1;
    const head = new Uint8Array(12 + alignUp(namesz, 4));
    const hv = new DataView(head.buffer);
    hv.setUint32(0, namesz, true);
    hv.setUint32(4, n.desc.length, true);
    hv.setUint32(8, n.type, true);
    head.set(name, 12);
    const desc = new Uint8Array(alignUp(n.desc.length, 4));
    desc.set(n.desc);
    offsets.push({ name: n.name, type: n.type, offset: pos, descOffset: pos + head.length, descSize: n.desc.length });
    parts.push(head, desc);
    pos += head.length + desc.length;
  }
  return { bytes: concat(parts), offsets };
}

/** struct elf_prstatus (x86-64, 336 bytes). */
export function prstatus(t: ThreadSpec): Uint8Array {
  const b = new Uint8Array(PRSTATUS_SIZE);
  const v = new DataView(b.buffer);
  const sig = t.signal ?? 0;
  v.setInt32(0, sig, true); // pr_info.si_signo
  v.setUint16(12, sig, true); // pr_cursig
  v.setInt32(32, t.tid, true); // pr_pid
  v.setInt32(36, t.ppid ?? 0, true); // pr_ppid
  v.setInt32(40, t.tid, true); // pr_pgrp
  v.setInt32(44, t.tid, true); // pr_sid
  for (const [name, value] of Object.entries(t.registers ?? {})) {
    const i = X86_64_USER_REGS.indexOf(name as UserRegName);
    if (i < 0) throw new Error(`unknown register ${name}`);
    v.setBigUint64(PRSTATUS_REG_OFFSET + i * 8, BigInt.asUintN(64, BigInt(value as number | bigint)), true);
  }
  v.setInt32(PRSTATUS_REG_OFFSET + X86_64_USER_REGS.length * 8, t.fpregs ? 1 : 0, true); // pr_fpvalid
  return b;
}

/** struct elf_prpsinfo (x86-64, 136 bytes). */
export function prpsinfo(p: PrPsInfoSpec): Uint8Array {
  const b = new Uint8Array(PRPSINFO_SIZE);
  const v = new DataView(b.buffer);
  const state = p.state ?? "R";
  b[0] = "RSDTZW".indexOf(state) >= 0 ? "RSDTZW".indexOf(state) : 0; // pr_state
  b[1] = state.charCodeAt(0); // pr_sname
  v.setUint32(16, p.uid ?? 0, true);
  v.setUint32(20, p.gid ?? 0, true);
  v.setInt32(24, p.pid, true);
  v.setInt32(28, p.ppid ?? 1, true);
  v.setInt32(32, p.pid, true); // pr_pgrp
  v.setInt32(36, p.pid, true); // pr_sid
  b.set(new TextEncoder().encode(p.fname).subarray(0, 15), 40);
  b.set(new TextEncoder().encode(p.args).subarray(0, 79), 56);
  return b;
}

/** siginfo_t (128 bytes). */
export function siginfo(s: SigInfoSpec): Uint8Array {
  const b = new Uint8Array(SIGINFO_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, s.signo, true);
  v.setInt32(4, s.errno ?? 0, true);
  v.setInt32(8, s.code, true);
  if (s.address !== undefined) v.setBigUint64(16, BigInt.asUintN(64, BigInt(s.address)), true);
  else if (s.senderPid !== undefined) {
    v.setInt32(16, s.senderPid, true);
    v.setUint32(20, s.senderUid ?? 0, true);
  }
  return b;
}

/** user_fpregs_struct (FXSAVE layout, 512 bytes). */
export function fpregset(f: { mxcsr?: number; fcw?: number; xmm?: Uint8Array }): Uint8Array {
  const b = new Uint8Array(FPREGSET_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(0, f.fcw ?? 0x37f, true);
  v.setUint32(24, f.mxcsr ?? 0x1f80, true);
  if (f.xmm) b.set(f.xmm.subarray(0, 256), 160);
  return b;
}

/** Auxiliary vector: u64 pairs ending with AT_NULL. */
export function auxv(entries: [number, number | bigint][]): Uint8Array {
  const b = new Uint8Array((entries.length + 1) * 16);
  const v = new DataView(b.buffer);
  entries.forEach(([type, value], i) => {
    v.setBigUint64(i * 16, BigInt(type), true);
    v.setBigUint64(i * 16 + 8, BigInt.asUintN(64, BigInt(value)), true);
  });
  return b;
}

/** NT_FILE: count, page size, count × (start, end, page offset), then NUL-terminated paths. */
export function ntFile(files: FileMappingSpec[], pageSize = 4096): Uint8Array {
  const enc = new TextEncoder();
  const paths = files.map((f) => enc.encode(f.path + "\0"));
  const b = new Uint8Array(16 + files.length * 24 + paths.reduce((n, p) => n + p.length, 0));
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(files.length), true);
  v.setBigUint64(8, BigInt(pageSize), true);
  files.forEach((f, i) => {
    v.setBigUint64(16 + i * 24, BigInt(f.start), true);
    v.setBigUint64(16 + i * 24 + 8, BigInt(f.end), true);
    v.setBigUint64(16 + i * 24 + 16, BigInt(f.pageOffset), true);
  });
  let pos = 16 + files.length * 24;
  for (const p of paths) {
    b.set(p, pos);
    pos += p.length;
  }
  return b;
}

/** A copy of `bytes` with a little-endian u16/u32/u64 stored at `offset` (for damaged variants). */
export function patched(bytes: Uint8Array, offset: number, value: number | bigint, size: 1 | 2 | 4 | 8): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (size === 1) out[offset] = Number(value);
  else if (size === 2) v.setUint16(offset, Number(value), true);
  else if (size === 4) v.setUint32(offset, Number(value), true);
  else v.setBigUint64(offset, BigInt(value), true);
  return out;
}

/** `n` bytes whose value at i is a simple function of (seed, i): recognisable memory contents. */
export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** A small, valid core with two threads, process info, auxv, NT_FILE and three segments. */
export function sampleCoreSpec(opts: { segmentAlign?: number } = {}): CoreSpec {
  return {
    threads: [
      { tid: 4242, signal: 11, registers: { rip: 0x401000, rsp: 0x7ffd0000_1000, rbp: 0x7ffd0000_1040 }, siginfo: { signo: 11, code: 1, address: 0xdead }, fpregs: {} },
      { tid: 4243, registers: { rip: 0x401234, rsp: 0x7ffd0000_2000 } },
    ],
    prpsinfo: { pid: 4242, fname: "sample", args: "./sample --flag" },
    auxv: [[3, 0x400040], [5, 9], [9, 0x401000], [33, 0x7fff_f7fc_1000]],
    files: [{ start: 0x400000, end: 0x402000, pageOffset: 0, path: "/usr/bin/sample" }],
    segments: [
      { vaddr: 0x400000, bytes: pattern(0x200, 1), memsz: 0x2000, flags: PF_R | PF_X },
      { vaddr: 0x7ffd0000_0000, bytes: pattern(0x300, 2) },
      { vaddr: 0x7ffd0000_0300, bytes: pattern(0x100, 3) },
    ],
    segmentAlign: opts.segmentAlign,
  };
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
