// Synthetic call-frame information and process memory for unwinder tests: a writer of
// .eh_frame + .eh_frame_hdr bytes from a description (CIEs with augmentation "zR" or "zRS",
// FDEs with a pc range and raw CFA instructions, a header whose search table is
// datarel|sdata4), placed at chosen virtual addresses; a sparse in-memory `Memory`; and a
// `CodeMap` over chosen code ranges. Together they make a small fake process: code bytes,
// stack bytes and CFI, with nothing from a real dump.
import type { Memory } from "../../src/dump/address-space.js";
import { EhFrameIndex } from "../../src/native/cfi.js";
import type { CodeMap } from "../../src/native/unwinder.js";
import { MemoryNotInDump } from "../../src/errors.js";

// ---- LEB128 and little-endian encoders (exact, via bigint) ----

export function uleb128(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError("uleb128 of a negative value");
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

export function sleb128(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n; // arithmetic shift on bigint
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

export function u16le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
export function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
export function u64le(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

// ---- DW_CFA_* instruction builders (operands as the spec encodes them: factored) ----

export const cfa = {
  nop: (): number[] => [0x00],
  advanceLoc: (delta: number): number[] => {
    if (delta < 0x40) return [0x40 | delta];
    if (delta < 0x100) return [0x02, delta];
    if (delta < 0x10000) return [0x03, ...u16le(delta)];
    return [0x04, ...u32le(delta)];
  },
  advanceLoc1: (delta: number): number[] => [0x02, delta],
  advanceLoc2: (delta: number): number[] => [0x03, ...u16le(delta)],
  advanceLoc4: (delta: number): number[] => [0x04, ...u32le(delta)],
  setLoc8: (address: number): number[] => [0x01, ...u64le(address)],
  /** DW_CFA_offset (reg < 64): saved at CFA + factored * dataAlign. */
  offset: (reg: number, factored: number): number[] => [0x80 | reg, ...uleb128(factored)],
  offsetExtended: (reg: number, factored: number): number[] => [0x05, ...uleb128(reg), ...uleb128(factored)],
  offsetExtendedSf: (reg: number, factored: number): number[] => [0x11, ...uleb128(reg), ...sleb128(factored)],
  gnuNegativeOffsetExtended: (reg: number, factored: number): number[] => [0x2f, ...uleb128(reg), ...uleb128(factored)],
  restore: (reg: number): number[] => [0xc0 | reg],
  restoreExtended: (reg: number): number[] => [0x06, ...uleb128(reg)],
  undefined: (reg: number): number[] => [0x07, ...uleb128(reg)],
  sameValue: (reg: number): number[] => [0x08, ...uleb128(reg)],
  register: (reg: number, from: number): number[] => [0x09, ...uleb128(reg), ...uleb128(from)],
  rememberState: (): number[] => [0x0a],
  restoreState: (): number[] => [0x0b],
  defCfa: (reg: number, offset: number): number[] => [0x0c, ...uleb128(reg), ...uleb128(offset)],
  defCfaSf: (reg: number, factored: number): number[] => [0x12, ...uleb128(reg), ...sleb128(factored)],
  defCfaRegister: (reg: number): number[] => [0x0d, ...uleb128(reg)],
  defCfaOffset: (offset: number): number[] => [0x0e, ...uleb128(offset)],
  defCfaOffsetSf: (factored: number): number[] => [0x13, ...sleb128(factored)],
  defCfaExpression: (expr: ArrayLike<number>): number[] => [0x0f, ...uleb128(expr.length), ...Array.from(expr)],
  expression: (reg: number, expr: ArrayLike<number>): number[] => [0x10, ...uleb128(reg), ...uleb128(expr.length), ...Array.from(expr)],
  valExpression: (reg: number, expr: ArrayLike<number>): number[] => [0x16, ...uleb128(reg), ...uleb128(expr.length), ...Array.from(expr)],
  valOffset: (reg: number, factored: number): number[] => [0x14, ...uleb128(reg), ...uleb128(factored)],
  valOffsetSf: (reg: number, factored: number): number[] => [0x15, ...uleb128(reg), ...sleb128(factored)],
  gnuArgsSize: (size: number): number[] => [0x2e, ...uleb128(size)],
};

// ---- DW_OP_* builders for expressions ----

export const op = {
  lit: (n: number): number[] => {
    if (n < 0 || n > 31) throw new RangeError(`DW_OP_lit${n} does not exist`);
    return [0x30 + n];
  },
  reg: (r: number): number[] => [0x50 + r],
  breg: (r: number, offset: number): number[] => [0x70 + r, ...sleb128(offset)],
  bregx: (r: number, offset: number): number[] => [0x92, ...uleb128(r), ...sleb128(offset)],
  regx: (r: number): number[] => [0x90, ...uleb128(r)],
  addr: (a: number | bigint): number[] => [0x03, ...u64le(a)],
  const1u: (v: number): number[] => [0x08, v & 0xff],
  const1s: (v: number): number[] => [0x09, v & 0xff],
  const2u: (v: number): number[] => [0x0a, ...u16le(v)],
  const2s: (v: number): number[] => [0x0b, ...u16le(v)],
  const4u: (v: number): number[] => [0x0c, ...u32le(v)],
  const4s: (v: number): number[] => [0x0d, ...u32le(v)],
  const8u: (v: number | bigint): number[] => [0x0e, ...u64le(v)],
  const8s: (v: number | bigint): number[] => [0x0f, ...u64le(v)],
  constu: (v: number | bigint): number[] => [0x10, ...uleb128(v)],
  consts: (v: number | bigint): number[] => [0x11, ...sleb128(v)],
  plusUconst: (v: number | bigint): number[] => [0x23, ...uleb128(v)],
  derefSize: (n: number): number[] => [0x94, n],
  pick: (i: number): number[] => [0x15, i],
  /** Branch/skip by a signed 16-bit byte offset, counted from the end of this instruction. */
  bra: (offset: number): number[] => [0x28, ...u16le(offset & 0xffff)],
  skip: (offset: number): number[] => [0x2f, ...u16le(offset & 0xffff)],
  deref: 0x06, dup: 0x12, drop: 0x13, over: 0x14, swap: 0x16, rot: 0x17, abs: 0x19, and: 0x1a, div: 0x1b,
  minus: 0x1c, mod: 0x1d, mul: 0x1e, neg: 0x1f, not: 0x20, or: 0x21, plus: 0x22, shl: 0x24, shr: 0x25,
  shra: 0x26, xor: 0x27, eq: 0x29, ge: 0x2a, gt: 0x2b, le: 0x2c, lt: 0x2d, ne: 0x2e, nop: 0x96,
} as const;

// ---- .eh_frame / .eh_frame_hdr writer ----

export const DW_EH_PE = {
  absptr: 0x00, uleb128: 0x01, udata2: 0x02, udata4: 0x03, udata8: 0x04, sleb128: 0x09,
  sdata2: 0x0a, sdata4: 0x0b, sdata8: 0x0c, pcrel: 0x10, datarel: 0x30, indirect: 0x80, omit: 0xff,
} as const;

export interface CieSpec {
  codeAlign?: number; // default 1
  dataAlign?: number; // default -8
  returnAddressRegister?: number; // default 16 (rip)
  /** FDE pointer encoding (augmentation 'R'); default pcrel|sdata4, as gcc emits. */
  fdeEncoding?: number;
  /** Augmentation 'S': a signal-trampoline frame. */
  signalFrame?: boolean;
  /** Initial instructions; default x86-64's: def_cfa rsp+8, rip at cfa-8. */
  instructions?: ArrayLike<number>;
}

export interface FdeSpec {
  /** Index into `cies`; default 0. */
  cie?: number;
  pcBegin: number;
  pcEnd: number;
  instructions?: ArrayLike<number>;
  /** Write the record with the 64-bit length escape (0xffffffff + u64). */
  extendedLength?: boolean;
}

export interface EhFrameSpec {
  /** Where .eh_frame sits in the synthetic address space. */
  ehFrameAddress: number;
  /** Where .eh_frame_hdr sits. */
  hdrAddress: number;
  cies: CieSpec[];
  fdes: FdeSpec[];
}

export interface BuiltEhFrame {
  ehFrame: Uint8Array;
  hdr: Uint8Array;
  cieAddresses: number[];
  fdeAddresses: number[];
}

/** x86-64 CIE initial instructions as gcc writes them. */
export const X86_64_CIE_INSTRUCTIONS = [...cfa.defCfa(7, 8), ...cfa.offset(16, 1)];

function pad4(body: number[]): void {
  // The record length (4 bytes) plus body must end 4-aligned; DW_CFA_nop pads.
  while ((body.length + 4) % 4 !== 0) body.push(0x00);
}

function encodePointer(encoding: number, value: number, fieldAddress: number): number[] {
  let v = value;
  if ((encoding & 0x70) === DW_EH_PE.pcrel) v -= fieldAddress;
  else if ((encoding & 0x70) !== 0) throw new Error(`cfi-writer: unsupported pointer application 0x${encoding.toString(16)}`);
  switch (encoding & 0x0f) {
    case DW_EH_PE.absptr:
    case DW_EH_PE.udata8:
    case DW_EH_PE.sdata8:
      return u64le(v);
    case DW_EH_PE.udata4:
    case DW_EH_PE.sdata4:
      if (v < -0x8000_0000 || v > 0xffff_ffff) throw new Error(`cfi-writer: ${v} does not fit 4 bytes`);
      return u32le(v >>> 0);
    case DW_EH_PE.udata2:
    case DW_EH_PE.sdata2:
      return u16le(v & 0xffff);
    case DW_EH_PE.uleb128:
      return uleb128(v);
    case DW_EH_PE.sleb128:
      return sleb128(v);
    default:
      throw new Error(`cfi-writer: unsupported pointer encoding 0x${encoding.toString(16)}`);
  }
}

/** Lay out the CIEs, then the FDEs, then a zero terminator; and a header indexing the FDEs. */
export function buildEhFrame(spec: EhFrameSpec): BuiltEhFrame {
  const out: number[] = [];
  const cieAddresses: number[] = [];
  const fdeAddresses: number[] = [];
  const base = spec.ehFrameAddress;

  for (const cie of spec.cies) {
    const start = base + out.length;
    cieAddresses.push(start);
    const body: number[] = [...u32le(0), 1]; // CIE id 0, version 1
    const aug = cie.signalFrame ? "zRS" : "zR";
    for (const ch of aug) body.push(ch.charCodeAt(0));
    body.push(0);
    body.push(...uleb128(cie.codeAlign ?? 1), ...sleb128(cie.dataAlign ?? -8), cie.returnAddressRegister ?? 16);
    body.push(...uleb128(1), cie.fdeEncoding ?? DW_EH_PE.pcrel | DW_EH_PE.sdata4); // augmentation data: 'R'
    body.push(...Array.from(cie.instructions ?? X86_64_CIE_INSTRUCTIONS));
    pad4(body);
    out.push(...u32le(body.length), ...body);
  }

  for (const fde of spec.fdes) {
    const cieIndex = fde.cie ?? 0;
    const cie = spec.cies[cieIndex];
    if (!cie) throw new Error(`cfi-writer: FDE refers to CIE ${cieIndex}`);
    const enc = cie.fdeEncoding ?? DW_EH_PE.pcrel | DW_EH_PE.sdata4;
    const start = base + out.length;
    fdeAddresses.push(start);
    const bodyAddress = start + (fde.extendedLength ? 12 : 4);
    const body: number[] = [...u32le(bodyAddress - cieAddresses[cieIndex]!)];
    body.push(...encodePointer(enc, fde.pcBegin, bodyAddress + body.length));
    body.push(...encodePointer(enc & 0x0f, fde.pcEnd - fde.pcBegin, 0));
    body.push(...uleb128(0)); // augmentation data length ('z')
    body.push(...Array.from(fde.instructions ?? []));
    pad4(body);
    if (fde.extendedLength) {
      while ((body.length + 12) % 4 !== 0) body.push(0x00);
      out.push(...u32le(0xffffffff), ...u64le(body.length), ...body);
    } else {
      out.push(...u32le(body.length), ...body);
    }
  }
  out.push(...u32le(0)); // terminator
  const ehFrame = Uint8Array.from(out);

  // .eh_frame_hdr: version 1, eh_frame_ptr pcrel|sdata4, fde_count udata4, table datarel|sdata4.
  const hdrAddr = spec.hdrAddress;
  const rel32 = (v: number) => {
    if (v < -0x8000_0000 || v > 0x7fff_ffff) throw new Error(`cfi-writer: ${v} does not fit sdata4`);
    return u32le(v >>> 0);
  };
  const hdr: number[] = [1, DW_EH_PE.pcrel | DW_EH_PE.sdata4, DW_EH_PE.udata4, DW_EH_PE.datarel | DW_EH_PE.sdata4];
  hdr.push(...rel32(base - (hdrAddr + 4)));
  hdr.push(...u32le(spec.fdes.length));
  const table = spec.fdes.map((f, i) => ({ loc: f.pcBegin, fde: fdeAddresses[i]! })).sort((a, b) => a.loc - b.loc);
  for (const e of table) hdr.push(...rel32(e.loc - hdrAddr), ...rel32(e.fde - hdrAddr));
  return { ehFrame, hdr: Uint8Array.from(hdr), cieAddresses, fdeAddresses };
}

// ---- Memory over a sparse map of address -> bytes ----

interface Region {
  start: number;
  bytes: Uint8Array;
}

/** A `Memory` whose bytes are the regions mapped into it; everything else is missing. */
export class SparseMemory implements Memory {
  private regions: Region[] = [];

  /** Maps `bytes` (copied; or `length` zero bytes) at `address`; returns the live backing array. */
  map(address: number, bytes: ArrayLike<number> | number): Uint8Array {
    const data = typeof bytes === "number" ? new Uint8Array(bytes) : Uint8Array.from(bytes);
    const end = address + data.length;
    if (this.regions.some((r) => address < r.start + r.bytes.length && r.start < end)) {
      throw new Error(`SparseMemory: region at 0x${address.toString(16)} overlaps another`);
    }
    this.regions.push({ start: address, bytes: data });
    this.regions.sort((a, b) => a.start - b.start);
    return data;
  }

  /** Overwrite mapped bytes (they must already be mapped). */
  write(address: number, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) {
      const r = this.regionAt(address + i);
      if (!r) throw new Error(`SparseMemory: write to unmapped 0x${(address + i).toString(16)}`);
      r.bytes[address + i - r.start] = bytes[i]!;
    }
  }

  writeU64(address: number, value: number | bigint): void {
    this.write(address, u64le(value));
  }

  private regionAt(address: number): Region | undefined {
    return this.regions.find((r) => address >= r.start && address < r.start + r.bytes.length);
  }

  tryRead(address: number, length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(address) || address < 0 || !Number.isSafeInteger(length) || length < 0) return undefined;
    if (length > 1 << 28) return undefined;
    const out = new Uint8Array(length);
    let pos = 0;
    while (pos < length) {
      const r = this.regionAt(address + pos);
      if (!r) return undefined;
      const off = address + pos - r.start;
      const n = Math.min(length - pos, r.bytes.length - off);
      out.set(r.bytes.subarray(off, off + n), pos);
      pos += n;
    }
    return out;
  }

  read(address: number, length: number): Uint8Array {
    const b = this.tryRead(address, length);
    if (!b) throw new MemoryNotInDump(address, length);
    return b;
  }

  tryReadPointer(address: number): number {
    const b = this.tryRead(address, 8);
    if (!b) return NaN;
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    return v < 2n ** 53n ? Number(v) : NaN;
  }

  readU64(address: number): bigint {
    const b = this.read(address, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  origin(address: number): "dump" | "file" | "missing" {
    return this.regionAt(address) ? "dump" : "missing";
  }
}

/** Maps a built .eh_frame and .eh_frame_hdr into `mem` and indexes them. */
export function mapEhFrame(mem: SparseMemory, spec: EhFrameSpec): { built: BuiltEhFrame; index: EhFrameIndex } {
  const built = buildEhFrame(spec);
  mem.map(spec.ehFrameAddress, built.ehFrame);
  mem.map(spec.hdrAddress, built.hdr);
  const index = EhFrameIndex.fromHeader(mem, spec.hdrAddress);
  if (!index) throw new Error("cfi-writer: EhFrameIndex.fromHeader refused the header we wrote");
  return { built, index };
}

// ---- CodeMap over chosen ranges ----

export interface CodeModule {
  start: number;
  end: number;
  cfi?: EhFrameIndex;
}

/** Executable ranges, each optionally with the CFI index of the module that covers it. */
export class TestCodeMap implements CodeMap {
  constructor(readonly modules: CodeModule[]) {}

  isCode(address: number): boolean {
    return this.modules.some((m) => address >= m.start && address < m.end);
  }

  cfiAt(address: number): EhFrameIndex | undefined {
    return this.modules.find((m) => address >= m.start && address < m.end)?.cfi;
  }
}
