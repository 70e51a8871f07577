// An ELF image as it sits in the dumped process's memory: program headers, dynamic section,
// build-id, .eh_frame_hdr and the dynamic symbol table, all found through the ELF header at
// the module's base address. Works for modules whose file is gone (deleted, other machine).
import { BinaryReader } from "../dump/binary-reader.js";
import type { Memory } from "../dump/address-space.js";
import {
  ELF_HEADER_SIZE, PHDR_SIZE, PT_DYNAMIC, PT_GNU_EH_FRAME, PT_LOAD, PT_NOTE,
  buildIdFromNotes, parseElfHeader, parseNotes, parseProgramHeaders, type ElfHeader, type ProgramHeader,
} from "../dump/elf-format.js";
import { SYM_SIZE, isDefinedCodeOrData } from "./elf-file.js";
import type { SymbolTableBuilder } from "./symbol-table.js";
import { rethrowIfBug } from "../errors.js";
import { MAX_DYNAMIC_ENTRIES, MAX_DYNSYMS } from "../limits.js";

export const DT_NULL = 0;
export const DT_HASH = 4;
export const DT_STRTAB = 5;
export const DT_SYMTAB = 6;
export const DT_STRSZ = 10;
export const DT_SONAME = 14;
export const DT_DEBUG = 21;
export const DT_GNU_HASH = 0x6ffffef5;


export interface LoadedImage {
  /** Address of the ELF header in memory. */
  base: number;
  /** Runtime address minus link-time address. */
  bias: number;
  header: ElfHeader;
  programHeaders: ProgramHeader[];
  /** Runtime address range covered by the PT_LOAD segments. */
  start: number;
  end: number;
  buildId?: string;
  /** Runtime address of PT_DYNAMIC. */
  dynamicAddress?: number;
  /** Runtime address of .eh_frame_hdr. */
  ehFrameHdr?: number;
}

export function isElfAt(mem: Memory, address: number): boolean {
  const m = mem.tryRead(address, 4);
  return m !== undefined && m[0] === 0x7f && m[1] === 0x45 && m[2] === 0x4c && m[3] === 0x46;
}

/** Parse the image whose ELF header is at `base`; undefined when the headers are not readable. */
export function readLoadedImage(mem: Memory, base: number, name: string): LoadedImage | undefined {
  const head = mem.tryRead(base, ELF_HEADER_SIZE);
  if (!head) return undefined;
  let header: ElfHeader;
  let programHeaders: ProgramHeader[];
  try {
    header = parseElfHeader(name, head, (o, l) => mem.tryRead(base + o, l) ?? new Uint8Array(0));
    const table = mem.tryRead(base + header.phoff, header.phnum * PHDR_SIZE);
    if (!table) return undefined;
    programHeaders = parseProgramHeaders(name, header, table);
  } catch (e) {
    rethrowIfBug(e);
    return undefined;
  }
  let linkStart = Infinity;
  let linkEnd = 0;
  for (const ph of programHeaders) {
    if (ph.type !== PT_LOAD) continue;
    linkStart = Math.min(linkStart, ph.vaddr - (ph.vaddr % 4096));
    linkEnd = Math.max(linkEnd, ph.vaddr + ph.memsz);
  }
  if (linkStart === Infinity) return undefined;
  const bias = base - linkStart;
  const image: LoadedImage = { base, bias, header, programHeaders, start: base, end: linkEnd + bias };
  for (const ph of programHeaders) {
    if (ph.type === PT_DYNAMIC) image.dynamicAddress = ph.vaddr + bias;
    else if (ph.type === PT_GNU_EH_FRAME) image.ehFrameHdr = ph.vaddr + bias;
    else if (ph.type === PT_NOTE && image.buildId === undefined && ph.memsz < 1 << 16) {
      const bytes = mem.tryRead(ph.vaddr + bias, ph.memsz);
      if (bytes) {
        try {
          image.buildId = buildIdFromNotes(parseNotes(`${name} notes`, bytes));
        } catch (e) {
          rethrowIfBug(e);
          // A damaged note in one image must not hide the module.
        }
      }
    }
  }
  return image;
}

/** The dynamic section as tag -> value (first occurrence wins, as the loader does). */
export function readDynamic(mem: Memory, dynamicAddress: number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (dynamicAddress === undefined) return out;
  for (let i = 0; i < MAX_DYNAMIC_ENTRIES; i++) {
    const tag = mem.tryReadPointer(dynamicAddress + i * 16);
    if (Number.isNaN(tag) || tag === DT_NULL) break;
    const value = mem.tryReadPointer(dynamicAddress + i * 16 + 8);
    if (!out.has(tag) && !Number.isNaN(value)) out.set(tag, value);
  }
  return out;
}

/**
 * glibc relocates DT_STRTAB/DT_SYMTAB/DT_*HASH in place for loaded objects, but not for the
 * vDSO or objects it never relocated: accept either form.
 */
function dynamicPointer(image: LoadedImage, value: number): number {
  return value >= image.start && value < image.end ? value : value + image.bias;
}

/** Add the dynamic symbols read from memory (link-time values), for images with no usable file. */
export function addDynamicSymbols(mem: Memory, image: LoadedImage, into: SymbolTableBuilder): number {
  const dyn = readDynamic(mem, image.dynamicAddress);
  const symtab = dyn.get(DT_SYMTAB);
  const strtab = dyn.get(DT_STRTAB);
  const strsz = dyn.get(DT_STRSZ);
  if (symtab === undefined || strtab === undefined || strsz === undefined || strsz > 64 << 20) return 0;
  const count = dynamicSymbolCount(mem, image, dyn);
  if (count === 0) return 0;
  const tableBytes = mem.tryRead(dynamicPointer(image, symtab), count * SYM_SIZE);
  const strBytes = mem.tryRead(dynamicPointer(image, strtab), strsz);
  if (!tableBytes || !strBytes) return 0;
  const table = new BinaryReader(tableBytes, "dynsym");
  const strings = into.addStringTable(strBytes);
  const before = into.count;
  for (let i = 1; i < count; i++) {
    const o = i * SYM_SIZE;
    if (isDefinedCodeOrData(table.u8(o + 4), table.u16(o + 6))) into.add(table.u64(o + 8), table.u64(o + 16), strings, table.u32(o));
  }
  return into.count - before;
}

function dynamicSymbolCount(mem: Memory, image: LoadedImage, dyn: Map<number, number>): number {
  const hash = dyn.get(DT_HASH);
  if (hash !== undefined) {
    const h = mem.tryRead(dynamicPointer(image, hash), 8);
    return h ? Math.min(new DataView(h.buffer, h.byteOffset).getUint32(4, true), MAX_DYNSYMS) : 0;
  }
  const gnu = dyn.get(DT_GNU_HASH);
  if (gnu === undefined) return 0;
  // GNU hash: the highest bucket start, then follow its chain to the entry with the end bit.
  const addr = dynamicPointer(image, gnu);
  const hdr = mem.tryRead(addr, 16);
  if (!hdr) return 0;
  const v = new DataView(hdr.buffer, hdr.byteOffset, 16);
  const nbuckets = v.getUint32(0, true);
  const symoffset = v.getUint32(4, true);
  const bloomSize = v.getUint32(8, true);
  if (nbuckets > MAX_DYNSYMS || bloomSize > MAX_DYNSYMS) return 0;
  const bucketsAddr = addr + 16 + bloomSize * 8;
  const buckets = mem.tryRead(bucketsAddr, nbuckets * 4);
  if (!buckets) return 0;
  const bv = new DataView(buckets.buffer, buckets.byteOffset, buckets.byteLength);
  let max = 0;
  for (let i = 0; i < nbuckets; i++) max = Math.max(max, bv.getUint32(i * 4, true));
  if (max < symoffset) return symoffset;
  const chains = bucketsAddr + nbuckets * 4;
  for (let idx = max; idx < MAX_DYNSYMS; idx++) {
    const c = mem.tryRead(chains + (idx - symoffset) * 4, 4);
    if (!c) return idx;
    if (new DataView(c.buffer, c.byteOffset, 4).getUint32(0, true) & 1) return idx + 1;
  }
  return 0;
}
