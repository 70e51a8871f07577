// An ELF image on disk (a shared library, an executable or a separate debug file): section
// headers, symbol tables, build-id and .gnu_debuglink. Section data is never mapped into a
// process, so .symtab is only available this way.
import { CorruptDataError, UnsupportedFormatError } from "../errors.js";
import { BinaryReader } from "../dump/binary-reader.js";
import { FileByteSource } from "../dump/byte-source.js";
import {
  ELF_HEADER_SIZE, PHDR_SIZE, PT_NOTE, SHDR_SIZE,
  buildIdFromNotes, parseElfHeader, parseNotes, parseProgramHeaders, type ElfHeader, type ProgramHeader,
} from "../dump/elf-format.js";
import type { SymbolTableBuilder } from "./symbol-table.js";

export interface Section {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
export const SYM_SIZE = 24;

/** Functions (incl. GNU ifuncs) and data objects defined in this image (st_shndx != UNDEF). */
export function isDefinedCodeOrData(stInfo: number, stShndx: number): boolean {
  const type = stInfo & 0xf;
  return (type === STT_FUNC || type === STT_GNU_IFUNC || type === STT_OBJECT) && stShndx !== 0;
}
/** Sanity bound: the largest symbol tables seen are a few hundred MB in debug builds of browsers. */
const MAX_TABLE_BYTES = 1 << 30;

export class ElfFile {
  readonly header: ElfHeader;
  readonly programHeaders: ProgramHeader[];
  readonly sections: Section[];
  readonly buildId?: string;
  private readonly source: FileByteSource;

  constructor(readonly path: string) {
    this.source = new FileByteSource(path, 64, "an ELF file");
    try {
      const src = this.source;
      this.header = parseElfHeader(path, src.read(0, ELF_HEADER_SIZE), (o, l) => src.read(o, l));
      this.programHeaders = parseProgramHeaders(path, this.header, src.read(this.header.phoff, this.header.phnum * PHDR_SIZE));
      this.sections = this.readSections();
      this.buildId = this.readBuildId();
    } catch (e) {
      this.source.close();
      throw e;
    }
  }

  section(name: string): Section | undefined {
    return this.sections.find((s) => s.name === name);
  }

  sectionBytes(s: Section): Uint8Array {
    if (s.type === SHT_NOBITS) return new Uint8Array(0);
    if (s.size > MAX_TABLE_BYTES || s.offset + s.size > this.source.size) {
      throw new CorruptDataError(`${this.path}: section ${s.name} (${s.size} bytes at ${s.offset}) lies outside the file`);
    }
    return this.source.read(s.offset, s.size);
  }

  /** Add the function and data symbols of .symtab and .dynsym (link-time addresses); returns how many. */
  addSymbols(into: SymbolTableBuilder): number {
    const before = into.count;
    for (const s of this.sections) {
      if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
      const strtab = this.sections[s.link];
      if (!strtab) continue;
      const table = new BinaryReader(this.sectionBytes(s), `${this.path} ${s.name}`);
      const strings = into.addStringTable(this.sectionBytes(strtab));
      const count = Math.floor(table.length / SYM_SIZE);
      for (let i = 1; i < count; i++) {
        const o = i * SYM_SIZE;
        if (!isDefinedCodeOrData(table.u8(o + 4), table.u16(o + 6))) continue;
        into.add(table.u64(o + 8), table.u64(o + 16), strings, table.u32(o));
      }
    }
    return into.count - before;
  }

  /** .gnu_debuglink file name, if any. */
  debugLink(): string | undefined {
    const s = this.section(".gnu_debuglink");
    return s ? new BinaryReader(this.sectionBytes(s), `${this.path} .gnu_debuglink`).cstring(0) : undefined;
  }

  close(): void {
    this.source.close();
  }

  private readSections(): Section[] {
    const h = this.header;
    if (h.shoff === 0 || h.shnum === 0) return [];
    if (h.shentsize !== SHDR_SIZE) throw new UnsupportedFormatError(`${this.path}: section header size ${h.shentsize}`);
    const bytes = this.source.read(h.shoff, h.shnum * SHDR_SIZE);
    if (bytes.length < h.shnum * SHDR_SIZE) throw new CorruptDataError(`${this.path}: section headers run past the end of the file`);
    const r = new BinaryReader(bytes, `${this.path} section headers`);
    const raw = [];
    for (let i = 0; i < h.shnum; i++) {
      const o = i * SHDR_SIZE;
      raw.push({
        nameOff: r.u32(o), type: r.u32(o + 4), flags: r.u64(o + 8), addr: r.u64(o + 16),
        offset: r.u64(o + 24), size: r.u64(o + 32), link: r.u32(o + 40), entsize: r.u64(o + 56),
      });
    }
    const strSec = raw[h.shstrndx];
    const names = strSec ? new BinaryReader(this.source.read(strSec.offset, strSec.size), `${this.path} .shstrtab`) : undefined;
    return raw.map(({ nameOff, ...rest }) => ({ ...rest, name: names && nameOff < names.length ? names.cstring(nameOff) : "" }));
  }

  private readBuildId(): string | undefined {
    for (const ph of this.programHeaders) {
      if (ph.type !== PT_NOTE || ph.filesz > 1 << 20) continue;
      const id = buildIdFromNotes(parseNotes(`${this.path} notes`, this.source.read(ph.offset, ph.filesz)));
      if (id) return id;
    }
    // Separate debug files keep the note in a section but may have no PT_NOTE.
    const s = this.section(".note.gnu.build-id");
    return s ? buildIdFromNotes(parseNotes(`${this.path} .note.gnu.build-id`, this.sectionBytes(s))) : undefined;
  }
}
