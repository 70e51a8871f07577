// Which bytes of a mapped file still equal the process's memory. Read-only parts (ELF text and
// rodata, PE sections without MEM_WRITE, headers) do. Writable parts may have been changed by
// the process and are never served from the file. Two exceptions, both exact: an ELF's RELRO
// range (read-only once the loader has relocated it), and, when a caller asks for the image
// "as loaded", writable data nobody writes after load (the runtime's contract descriptor). In
// both, relative relocations (RELA R_X86_64_RELATIVE and packed DT_RELR) are applied (load bias
// + addend); bytes that another relocation type patches cannot be reproduced and are refused.
import { u64OrNaN } from "./binary-reader.js";
import type { ByteSource } from "./byte-source.js";
import { ELF_HEADER_SIZE, PF_W, PHDR_SIZE, PT_DYNAMIC, PT_LOAD, parseElfHeader, parseProgramHeaders, type ProgramHeader } from "./elf-format.js";
import { lastAtOrBelow } from "./sorted.js";
import { MAX_PE_RELOCATIONS } from "../limits.js";

const PT_GNU_RELRO = 0x6474e552;
const DT_RELA = 7;
const DT_RELASZ = 8;
const DT_JMPREL = 23;
const DT_PLTRELSZ = 2;
const DT_RELRSZ = 35;
const DT_RELR = 36;
const R_X86_64_RELATIVE = 8;
const RELA_SIZE = 24;
const IMAGE_SCN_MEM_WRITE = 0x80000000;

export interface FileRange {
  start: number;
  end: number;
}

export interface FileLayout {
  /** File ranges whose bytes are exactly what the process saw. */
  readOnly: FileRange[];
  /** File ranges exact after relocation, always (RELRO). */
  relro: FileRange[];
  /** File ranges exact after relocation only if the process never wrote them (.data). */
  writable: FileRange[];
  /** Relative relocations (RELA R_X86_64_RELATIVE and DT_RELR): file offsets, ascending, and addends. */
  relativeOffsets: Float64Array;
  relativeAddends: Float64Array;
  /** File offsets patched by other relocation types (ascending): never reproducible. */
  otherRelocationOffsets: Float64Array;
  /** Link-time vaddr minus file offset of the segment holding file offset 0 (ELF), for the load bias. */
  vaddrOfOffsetZero: number;
  /** Relocations could be read (false: unreadable tables; relocated reads are then refused). */
  relocationsKnown: boolean;
}

const EMPTY = new Float64Array(0);

function emptyLayout(readOnly: FileRange[]): FileLayout {
  return { readOnly, relro: [], writable: [], relativeOffsets: EMPTY, relativeAddends: EMPTY, otherRelocationOffsets: EMPTY, vaddrOfOffsetZero: 0, relocationsKnown: false };
}

/** The layout of an ELF or PE file; for other files nothing is known to be read-only. */
export function describeFileLayout(source: ByteSource): FileLayout {
  const head = source.read(0, ELF_HEADER_SIZE);
  try {
    if (head[0] === 0x7f && head[1] === 0x45) return elfLayout(source, head);
    if (head[0] === 0x4d && head[1] === 0x5a) return peLayout(source);
  } catch {
    // A file we cannot parse serves nothing.
  }
  return emptyLayout([]);
}

function elfLayout(source: ByteSource, head: Uint8Array): FileLayout {
  const h = parseElfHeader(source.name, head, (o, l) => source.read(o, l));
  const phdrs = parseProgramHeaders(source.name, h, source.read(h.phoff, h.phnum * PHDR_SIZE));
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  const layout = emptyLayout(loads.filter((p) => !(p.flags & PF_W)).map((p) => ({ start: p.offset, end: p.offset + p.filesz })));
  const first = loads.find((p) => p.offset === 0);
  if (first) layout.vaddrOfOffsetZero = first.vaddr;
  layout.writable = loads.filter((p) => p.flags & PF_W).map((p) => ({ start: p.offset, end: p.offset + p.filesz }));
  const toOffset = (vaddr: number): number | undefined => {
    const p = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    return p ? vaddr - p.vaddr + p.offset : undefined;
  };
  for (const p of phdrs) {
    if (p.type !== PT_GNU_RELRO) continue;
    const start = toOffset(p.vaddr);
    if (start !== undefined) layout.relro.push({ start, end: start + p.filesz });
  }
  readRelocations(source, phdrs, toOffset, layout);
  return layout;
}

function readRelocations(source: ByteSource, phdrs: ProgramHeader[], toOffset: (v: number) => number | undefined, layout: FileLayout): void {
  const dynamic = phdrs.find((p) => p.type === PT_DYNAMIC);
  if (!dynamic) {
    layout.relocationsKnown = true; // a static image has no dynamic relocations
    return;
  }
  const dyn = source.read(dynamic.offset, dynamic.filesz);
  const view = new DataView(dyn.buffer, dyn.byteOffset, dyn.byteLength);
  const tags = new Map<number, number>();
  for (let o = 0; o + 16 <= dyn.length; o += 16) {
    const tag = u64OrNaN(view, o);
    if (tag === 0) break;
    if (!tags.has(tag)) tags.set(tag, u64OrNaN(view, o + 8));
  }
  const relative: [number, number][] = [];
  const other: number[] = [];
  if (tags.has(DT_RELR) && !readRelr(source, tags.get(DT_RELR)!, tags.get(DT_RELRSZ) ?? 0, toOffset, relative)) return;
  for (const [addrTag, sizeTag] of [[DT_RELA, DT_RELASZ], [DT_JMPREL, DT_PLTRELSZ]] as const) {
    const vaddr = tags.get(addrTag);
    const size = tags.get(sizeTag) ?? 0;
    if (vaddr === undefined) continue;
    const offset = toOffset(vaddr);
    if (offset === undefined || size > MAX_PE_RELOCATIONS * RELA_SIZE) return;
    const table = source.read(offset, size);
    if (table.length < size) return;
    const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
    for (let o = 0; o + RELA_SIZE <= size; o += RELA_SIZE) {
      const target = toOffset(u64OrNaN(t, o));
      if (target === undefined) continue;
      if (t.getUint32(o + 8, true) === R_X86_64_RELATIVE) relative.push([target, Number(t.getBigInt64(o + 16, true))]);
      else other.push(target);
    }
  }
  relative.sort((a, b) => a[0] - b[0]);
  layout.relativeOffsets = Float64Array.from(relative, (r) => r[0]);
  layout.relativeAddends = Float64Array.from(relative, (r) => r[1]);
  layout.otherRelocationOffsets = Float64Array.from(other.sort((a, b) => a - b));
  layout.relocationsKnown = true;
}

/**
 * DT_RELR packed relative relocations (implicit addends, the word already in the file): an even
 * entry is an address to relocate, an odd one a bitmap of the 63 words after the last address.
 */
function readRelr(source: ByteSource, vaddr: number, size: number, toOffset: (v: number) => number | undefined, out: [number, number][]): boolean {
  const offset = toOffset(vaddr);
  if (offset === undefined || size > MAX_PE_RELOCATIONS * 8) return false;
  const table = source.read(offset, size);
  if (table.length < size) return false;
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const add = (where: number) => {
    const at = toOffset(where);
    if (at === undefined) return;
    const word = source.read(at, 8);
    if (word.length === 8) out.push([at, Number(new DataView(word.buffer, word.byteOffset, 8).getBigInt64(0, true))]);
  };
  let where = 0;
  for (let o = 0; o + 8 <= size; o += 8) {
    const entry = t.getBigUint64(o, true);
    if ((entry & 1n) === 0n) {
      where = Number(entry);
      add(where);
      where += 8;
    } else {
      for (let bit = 1n; bit < 64n; bit++) if ((entry >> bit) & 1n) add(where + Number(bit - 1n) * 8);
      where += 63 * 8;
    }
  }
  return true;
}

export interface PeSection {
  virtualAddress: number;
  virtualSize: number;
  rawPointer: number;
  rawSize: number;
  writable: boolean;
}

/** What identifies a PE file and places its bytes: the loader maps sections at VirtualAddress from PointerToRawData. */
export interface PeHeaders {
  timestamp: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  sections: PeSection[];
}

/** The COFF and optional headers of a PE file (source holds the file, or its mapped header page). */
export function peHeaders(source: ByteSource): PeHeaders | undefined {
  const dos = source.read(0, 64);
  if (dos.length < 64 || dos[0] !== 0x4d || dos[1] !== 0x5a) return undefined;
  const lfanew = new DataView(dos.buffer, dos.byteOffset, dos.byteLength).getUint32(60, true);
  const coff = source.read(lfanew, 24);
  if (coff.length < 24) return undefined;
  const cv = new DataView(coff.buffer, coff.byteOffset, coff.byteLength);
  if (cv.getUint32(0, true) !== 0x4550) return undefined;
  const count = cv.getUint16(6, true);
  const optionalSize = cv.getUint16(20, true);
  const optional = source.read(lfanew + 24, optionalSize);
  if (optional.length < 64) return undefined;
  const ov = new DataView(optional.buffer, optional.byteOffset, optional.byteLength);
  const table = source.read(lfanew + 24 + optionalSize, count * 40);
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const sections: PeSection[] = [];
  for (let i = 0; i < count && (i + 1) * 40 <= table.length; i++) {
    sections.push({
      virtualSize: tv.getUint32(i * 40 + 8, true),
      virtualAddress: tv.getUint32(i * 40 + 12, true),
      rawSize: tv.getUint32(i * 40 + 16, true),
      rawPointer: tv.getUint32(i * 40 + 20, true),
      writable: (tv.getUint32(i * 40 + 36, true) & IMAGE_SCN_MEM_WRITE) !== 0,
    });
  }
  return { timestamp: cv.getUint32(8, true), sizeOfImage: ov.getUint32(56, true), sizeOfHeaders: ov.getUint32(60, true), sections };
}

/** PE: headers and sections the image does not mark writable. */
function peLayout(source: ByteSource): FileLayout {
  const pe = peHeaders(source);
  if (!pe) return emptyLayout([]);
  const readOnly: FileRange[] = [{ start: 0, end: pe.sizeOfHeaders }];
  for (const s of pe.sections) if (!s.writable) readOnly.push({ start: s.rawPointer, end: s.rawPointer + s.rawSize });
  return emptyLayout(readOnly);
}

export function within(ranges: FileRange[], start: number, end: number): boolean {
  return ranges.some((r) => start >= r.start && end <= r.end);
}

/**
 * Apply R_X86_64_RELATIVE relocations (value = load bias + addend) to `bytes`, which hold the file
 * range starting at `fileOffset`. False if another relocation type patches any of these bytes.
 */
export function applyRelativeRelocations(layout: FileLayout, bytes: Uint8Array, fileOffset: number, loadBias: number): boolean {
  const end = fileOffset + bytes.length;
  const other = layout.otherRelocationOffsets;
  const firstOther = lastAtOrBelow(other, end - 1);
  if (firstOther >= 0 && other[firstOther]! + 8 > fileOffset) return false;
  const offsets = layout.relativeOffsets;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = Math.max(0, lastAtOrBelow(offsets, fileOffset - 8)); i < offsets.length && offsets[i]! < end; i++) {
    const at = offsets[i]! - fileOffset;
    if (at < 0 || at + 8 > bytes.length) {
      if (at + 8 > 0 && at < bytes.length) return false; // a relocated word straddles the edge
      continue;
    }
    view.setBigUint64(at, BigInt.asUintN(64, BigInt(loadBias + layout.relativeAddends[i]!)), true);
  }
  return true;
}
