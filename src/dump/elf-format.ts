// The ELF container format shared by core dumps (dump/) and loaded images (native/): the file
// header, program headers and note records. 64-bit little-endian only; anything else is
// rejected with a clear message.
import { CorruptDataError, UnsupportedFormatError } from "../errors.js";
import { BinaryReader, textDecoder, u64OrNaN } from "./binary-reader.js";

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_NOTE = 4;
export const PT_PHDR = 6;
export const PT_GNU_EH_FRAME = 0x6474e550;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** e_phnum value meaning "the real count is in section header 0's sh_info". */
export const PN_XNUM = 0xffff;

export const ELF_HEADER_SIZE = 64;
export const PHDR_SIZE = 56;
export const SHDR_SIZE = 64;

export interface ElfHeader {
  type: number;
  machine: number;
  entry: number;
  phoff: number;
  shoff: number;
  phentsize: number;
  /** Program-header count after resolving PN_XNUM. */
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export function elfTypeName(type: number): string {
  return ({ 1: "relocatable object", 2: "executable", 3: "shared object", 4: "core dump" } as Record<number, string>)[type] ?? `type ${type}`;
}

/**
 * Parse and validate the ELF identification and header. `readAt` supplies bytes from the file
 * (needed for PN_XNUM, which keeps the real program-header count in section header 0).
 */
export function parseElfHeader(name: string, head: Uint8Array, readAt: (offset: number, length: number) => Uint8Array): ElfHeader {
  if (head.length === 0) throw new UnsupportedFormatError(`${name} is empty (0 bytes), not a core dump`);
  if (head.length < 4 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    throw new UnsupportedFormatError(`${name} is not an ELF file (no \\x7fELF signature); clrscope opens Linux core dumps`);
  }
  if (head.length < ELF_HEADER_SIZE) throw new CorruptDataError(`${name}: ELF header cut short (${head.length} of ${ELF_HEADER_SIZE} bytes)`);
  if (head[4] !== 2) throw new UnsupportedFormatError(`${name} is a ${head[4] === 1 ? "32-bit" : "unknown-class"} ELF file; clrscope supports 64-bit dumps only`);
  if (head[5] !== 1) throw new UnsupportedFormatError(`${name} is a ${head[5] === 2 ? "big-endian" : "unknown byte-order"} ELF file; clrscope supports little-endian dumps only`);
  const r = new BinaryReader(head, `${name} ELF header`);
  const h: ElfHeader = {
    type: r.u16(16),
    machine: r.u16(18),
    entry: r.u64(24),
    phoff: r.u64(32),
    shoff: r.u64(40),
    phentsize: r.u16(54),
    phnum: r.u16(56),
    shentsize: r.u16(58),
    shnum: r.u16(60),
    shstrndx: r.u16(62),
  };
  if (h.phnum > 0 && h.phentsize !== PHDR_SIZE) throw new CorruptDataError(`${name}: program header size ${h.phentsize} (expected ${PHDR_SIZE})`);
  if (h.phnum === PN_XNUM) {
    // Section header 0 holds the real count in sh_info (ELF gABI "Extended Program Header Count").
    const sh0 = readAt(h.shoff, SHDR_SIZE);
    if (h.shoff === 0 || sh0.length < SHDR_SIZE) throw new CorruptDataError(`${name}: e_phnum is PN_XNUM but section header 0 is missing (offset ${h.shoff})`);
    h.phnum = new BinaryReader(sh0, `${name} section header 0`).u32(44);
  }
  return h;
}

export function parseProgramHeaders(name: string, h: ElfHeader, table: Uint8Array): ProgramHeader[] {
  if (table.length < h.phnum * PHDR_SIZE) {
    throw new CorruptDataError(`${name}: program header table (${h.phnum} entries at offset ${h.phoff}) runs past the end of the data`);
  }
  const r = new BinaryReader(table, `${name} program headers`);
  const out: ProgramHeader[] = new Array(h.phnum);
  for (let i = 0; i < h.phnum; i++) {
    const o = i * PHDR_SIZE;
    out[i] = {
      type: r.u32(o),
      flags: r.u32(o + 4),
      offset: r.u64(o + 8),
      // Kernel addresses (the legacy vsyscall page at 0xffffffffff600000) do not fit a JS
      // number; they are never user memory we read, so they become NaN and are skipped.
      vaddr: u64OrNaN(r.view, r.checked(o + 16, 8)),
      filesz: r.u64(o + 32),
      memsz: r.u64(o + 40),
      align: r.u64(o + 48),
    };
  }
  return out;
}

export interface Note {
  name: string;
  type: number;
  /** The descriptor bytes (a view into the note segment). */
  desc: Uint8Array;
}

/** Split a PT_NOTE segment into records. Names and descriptors are 4-byte aligned. */
export function parseNotes(what: string, bytes: Uint8Array): Note[] {
  const r = new BinaryReader(bytes, what);
  const notes: Note[] = [];
  let o = 0;
  while (o + 12 <= bytes.length) {
    const namesz = r.u32(o);
    const descsz = r.u32(o + 4);
    const type = r.u32(o + 8);
    const nameStart = o + 12;
    const descStart = nameStart + align4(namesz);
    const end = descStart + align4(descsz);
    if (nameStart + namesz > bytes.length || descStart + descsz > bytes.length) {
      throw new CorruptDataError(`${what}: note ${notes.length} (type 0x${type.toString(16)}) claims ${descsz} bytes at offset ${descStart}, past the end of the ${bytes.length}-byte note segment`);
    }
    const name = textDecoder.decode(bytes.subarray(nameStart, nameStart + Math.max(0, namesz - 1)));
    notes.push({ name, type, desc: bytes.subarray(descStart, descStart + descsz) });
    o = end;
  }
  return notes;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4; // sizes are u32: a bitwise `&` would wrap them and loop forever
}

export const NT_GNU_BUILD_ID = 3;

/** The GNU build-id in a set of notes, as lowercase hex, or undefined. */
export function buildIdFromNotes(notes: Note[]): string | undefined {
  const n = notes.find((x) => x.name === "GNU" && x.type === NT_GNU_BUILD_ID);
  return n ? Buffer.from(n.desc).toString("hex") : undefined;
}
