// PE/COFF images as .NET ships them: the headers, the section table, the CLI (COR20) header, the
// debug directory (CodeView/RSDS: which PDB belongs to the image) and whether the image carries
// ReadyToRun native code. Two layouts over the same bytes:
//   "file"   - the file on disk: an RVA is translated to a file offset through the section table;
//   "mapped" - the image as the loader maps it (each section at its RVA): RVA == offset. A module
//              read out of a dump's memory is in this layout (unless the runtime mapped it flat).
// Every offset and count read here comes from the image and is checked before use; bad input ends
// in CorruptDataError (damaged) or UnsupportedFormatError (not a PE / not what we need).
import type { Memory } from "../dump/address-space.js";
import { BinaryReader } from "../dump/binary-reader.js";
import { FileByteSource } from "../dump/byte-source.js";
import { CorruptDataError, UnsupportedFormatError } from "../errors.js";
import { MAX_CODEVIEW, MAX_DATA_DIRECTORIES } from "../limits.js";

/** The bytes of an image: reads are clipped at `size` (short at the end). */
export interface PeByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  close?(): void;
}

export type PeLayout = "file" | "mapped";

/** Upper bound for reads through an in-memory image: PE sizes are checked by the reader. */
const LOADED_IMAGE_LIMIT = 1 << 30;

/** The bytes of a PE image loaded at `base` in dump memory; pages missing from the dump read as nothing. */
export function loadedImageSource(memory: Memory, base: number): PeByteSource {
  return { size: LOADED_IMAGE_LIMIT, read: (offset, length) => memory.tryRead(base + offset, length) ?? new Uint8Array(0) };
}

export interface DataDirectory {
  rva: number;
  size: number;
}

export interface SectionHeader {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  pointerToRawData: number;
  sizeOfRawData: number;
  characteristics: number;
}

export interface Cor20Header {
  majorRuntimeVersion: number;
  minorRuntimeVersion: number;
  metadata: DataDirectory;
  flags: number;
  /** A MethodDef/File token, or an RVA for native entry points (COMIMAGE_FLAGS_NATIVE_ENTRYPOINT). */
  entryPoint: number;
  resources: DataDirectory;
  strongNameSignature: DataDirectory;
  codeManagerTable: DataDirectory;
  vtableFixups: DataDirectory;
  exportAddressTableJumps: DataDirectory;
  /** ReadyToRun header (or the old NGen header) when non-empty. */
  managedNativeHeader: DataDirectory;
}

export interface DebugDirectoryEntry {
  characteristics: number;
  timeDateStamp: number;
  majorVersion: number;
  minorVersion: number;
  type: number;
  sizeOfData: number;
  addressOfRawData: number;
  pointerToRawData: number;
}

export interface CodeViewInfo {
  /** The PDB signature GUID in the usual text form (lowercase, dashes). */
  guid: string;
  age: number;
  path: string;
  /** A portable PDB (debug entry minor version 0x504d "PM") rather than a Windows PDB. */
  portable: boolean;
}

export interface ReadyToRunInfo {
  majorVersion: number;
  minorVersion: number;
  flags: number;
}

/** Debug directory entry types (IMAGE_DEBUG_TYPE_*) used here. */
export const DebugType = {
  codeView: 2,
  reproducible: 16,
  embeddedPortablePdb: 17,
  pdbChecksum: 19,
  perfMap: 21,
} as const;

export const PeMachine = { i386: 0x14c, amd64: 0x8664, arm: 0x1c4, arm64: 0xaa64 } as const;

const DOS_LFANEW = 0x3c;
const COFF_SIZE = 20;
const SECTION_SIZE = 40;
const DEBUG_ENTRY_SIZE = 28;
const COR20_SIZE = 72;
const DIR_DEBUG = 6;
const DIR_CLI = 14;
/** "RTR": READYTORUN_SIGNATURE at the start of the ManagedNativeHeader of a ReadyToRun image. */
const READYTORUN_SIGNATURE = 0x00525452;
const RSDS = 0x53445352;

export class PeImage {
  readonly is64: boolean;
  readonly machine: number;
  readonly numberOfSections: number;
  readonly timeDateStamp: number;
  readonly characteristics: number;
  /** ImageBase as a bigint: PE32+ images may prefer bases above 2^53. */
  readonly imageBase: bigint;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  readonly checkSum: number;
  readonly subsystem: number;
  readonly dllCharacteristics: number;
  readonly addressOfEntryPoint: number;
  readonly dataDirectories: DataDirectory[];
  readonly sections: SectionHeader[];
  readonly cor20: Cor20Header | undefined;
  private debugCache: DebugDirectoryEntry[] | undefined;

  constructor(
    readonly source: PeByteSource,
    readonly layout: PeLayout = "file",
    readonly name = "image",
    readCliHeader = true,
  ) {
    const dos = this.bytesAt(0, 64, "DOS header", UnsupportedFormatError);
    if (dos[0] !== 0x4d || dos[1] !== 0x5a) throw new UnsupportedFormatError(`${name}: not a PE image (no MZ signature)`);
    const lfanew = new BinaryReader(dos, `${name} DOS header`).u32(DOS_LFANEW);
    const nt = new BinaryReader(this.bytesAt(lfanew, 4 + COFF_SIZE, "PE signature and COFF header"), `${name} COFF header`);
    if (nt.u32(0) !== 0x4550) throw new UnsupportedFormatError(`${name}: not a PE image (no PE signature at offset ${lfanew})`);
    this.machine = nt.u16(4);
    this.numberOfSections = nt.u16(6);
    this.timeDateStamp = nt.u32(8);
    const sizeOfOptional = nt.u16(20);
    this.characteristics = nt.u16(22);

    const optOffset = lfanew + 4 + COFF_SIZE;
    const opt = new BinaryReader(this.bytesAt(optOffset, sizeOfOptional, "optional header"), `${name} optional header`);
    const magic = opt.u16(0);
    if (magic !== 0x10b && magic !== 0x20b) throw new UnsupportedFormatError(`${name}: unknown optional header magic 0x${magic.toString(16)}`);
    this.is64 = magic === 0x20b;
    this.addressOfEntryPoint = opt.u32(16);
    this.imageBase = this.is64 ? opt.u64big(24) : BigInt(opt.u32(28));
    this.sectionAlignment = opt.u32(32);
    this.fileAlignment = opt.u32(36);
    this.sizeOfImage = opt.u32(56);
    this.sizeOfHeaders = opt.u32(60);
    this.checkSum = opt.u32(64);
    this.subsystem = opt.u16(68);
    this.dllCharacteristics = opt.u16(70);
    // The data directory array follows the fixed fields (96 bytes in PE32, 112 in PE32+); its
    // count is bounded both by the spec (16) and by what the optional header really holds.
    const dirOffset = this.is64 ? 112 : 96;
    const declared = opt.u32(dirOffset - 4);
    const fits = Math.max(0, Math.floor((sizeOfOptional - dirOffset) / 8));
    const count = Math.min(declared, MAX_DATA_DIRECTORIES, fits);
    this.dataDirectories = [];
    for (let i = 0; i < count; i++) this.dataDirectories.push({ rva: opt.u32(dirOffset + 8 * i), size: opt.u32(dirOffset + 8 * i + 4) });

    const sectionBytes = this.bytesAt(optOffset + sizeOfOptional, this.numberOfSections * SECTION_SIZE, "section table");
    const st = new BinaryReader(sectionBytes, `${name} section table`);
    this.sections = [];
    for (let i = 0; i < this.numberOfSections; i++) {
      const o = i * SECTION_SIZE;
      this.sections.push({
        name: st.cstring(o, 8),
        virtualSize: st.u32(o + 8),
        virtualAddress: st.u32(o + 12),
        sizeOfRawData: st.u32(o + 16),
        pointerToRawData: st.u32(o + 20),
        characteristics: st.u32(o + 36),
      });
    }
    this.cor20 = readCliHeader ? this.readCor20() : undefined;
  }

  /**
   * Which layout `source` holds a managed image in, judged by where a well-formed CLI header is
   * (its size field is 72 in the real one): the section table alone cannot tell a flat mapping
   * from a loaded one. Undefined when neither layout shows a CLI header.
   */
  static detectLayout(source: PeByteSource, name = "image"): PeLayout | undefined {
    const headers = new PeImage(source, "file", name, false);
    const cli = headers.directory(DIR_CLI);
    if (!cli) return undefined;
    const looksLikeCli = (offset: number | undefined): boolean => {
      if (offset === undefined || offset + 8 > source.size) return false;
      const b = source.read(offset, 8);
      return b.length === 8 && new DataView(b.buffer, b.byteOffset, 8).getUint32(0, true) === COR20_SIZE && b[4] === 2;
    };
    if (looksLikeCli(cli.rva)) return "mapped";
    if (looksLikeCli(headers.rvaToOffset(cli.rva)?.offset)) return "file";
    return undefined;
  }

  /** Releases the byte source (a file descriptor for openPeFile). */
  close(): void {
    this.source.close?.();
  }

  /** True when the image has a CLI header (a .NET assembly or module). */
  get isManaged(): boolean {
    return this.cor20 !== undefined;
  }

  directory(index: number): DataDirectory | undefined {
    const d = this.dataDirectories[index];
    return d && d.size !== 0 ? d : undefined;
  }

  /**
   * Where the byte at `rva` lies in the source and how many bytes from there belong to the same
   * section (or the headers); undefined when the RVA is in no section.
   */
  rvaToOffset(rva: number): { offset: number; available: number } | undefined {
    if (!Number.isSafeInteger(rva) || rva < 0) return undefined;
    if (this.layout === "mapped") {
      return rva < this.sizeOfImage ? { offset: rva, available: this.sizeOfImage - rva } : undefined;
    }
    for (const s of this.sections) {
      // A section spans VirtualSize bytes in memory (SizeOfRawData when a linker left it 0); only
      // SizeOfRawData of them are in the file.
      const span = s.virtualSize || s.sizeOfRawData;
      if (rva >= s.virtualAddress && rva < s.virtualAddress + span) {
        const delta = rva - s.virtualAddress;
        if (delta >= s.sizeOfRawData) return undefined; // zero-fill: no bytes in the file
        return { offset: s.pointerToRawData + delta, available: Math.min(s.sizeOfRawData, span) - delta };
      }
    }
    if (rva < this.sizeOfHeaders) return { offset: rva, available: this.sizeOfHeaders - rva };
    return undefined;
  }

  /** `length` bytes at `rva`, all inside one section; CorruptDataError otherwise. */
  readRva(rva: number, length: number, what: string): Uint8Array {
    const at = this.rvaToOffset(rva);
    if (!at || length > at.available) {
      throw new CorruptDataError(`${this.name}: ${what} at RVA 0x${rva.toString(16)} (+${length}) lies outside the image's sections`);
    }
    return this.bytesAt(at.offset, length, what);
  }

  /** The debug directory entries (empty when there is none). */
  debugEntries(): DebugDirectoryEntry[] {
    if (this.debugCache) return this.debugCache;
    const out: DebugDirectoryEntry[] = [];
    const dir = this.directory(DIR_DEBUG);
    if (dir) {
      const count = Math.floor(dir.size / DEBUG_ENTRY_SIZE);
      const r = new BinaryReader(this.readRva(dir.rva, count * DEBUG_ENTRY_SIZE, "debug directory"), `${this.name} debug directory`);
      for (let i = 0; i < count; i++) {
        const o = i * DEBUG_ENTRY_SIZE;
        out.push({
          characteristics: r.u32(o),
          timeDateStamp: r.u32(o + 4),
          majorVersion: r.u16(o + 8),
          minorVersion: r.u16(o + 10),
          type: r.u32(o + 12),
          sizeOfData: r.u32(o + 16),
          addressOfRawData: r.u32(o + 20),
          pointerToRawData: r.u32(o + 24),
        });
      }
    }
    this.debugCache = out;
    return out;
  }

  /** The data of a debug directory entry: by file pointer on disk, by RVA when mapped. */
  debugData(e: DebugDirectoryEntry, maxSize = MAX_CODEVIEW): Uint8Array {
    if (e.sizeOfData > maxSize) throw new CorruptDataError(`${this.name}: debug entry of type ${e.type} claims ${e.sizeOfData} bytes`);
    if (this.layout === "mapped") return this.readRva(e.addressOfRawData, e.sizeOfData, "debug data");
    return this.bytesAt(e.pointerToRawData, e.sizeOfData, "debug data");
  }

  /** Every CodeView (RSDS) record: the PDBs this image was built with. */
  codeViews(): CodeViewInfo[] {
    const out: CodeViewInfo[] = [];
    for (const e of this.debugEntries()) {
      if (e.type !== DebugType.codeView || e.sizeOfData < 24) continue;
      const r = new BinaryReader(this.debugData(e), `${this.name} CodeView record`);
      if (r.u32(0) !== RSDS) continue;
      out.push({ guid: formatGuid(r.bytes, 4), age: r.u32(20), path: r.cstring(24), portable: e.minorVersion === 0x504d });
    }
    return out;
  }

  /** The first CodeView record, the one debuggers and symbol servers use. */
  codeView(): CodeViewInfo | undefined {
    return this.codeViews()[0];
  }

  /** ReadyToRun header facts, when the image carries precompiled native code. */
  readyToRun(): ReadyToRunInfo | undefined {
    const d = this.cor20?.managedNativeHeader;
    if (!d || d.size < 16) return undefined;
    const r = new BinaryReader(this.readRva(d.rva, 16, "ReadyToRun header"), `${this.name} ReadyToRun header`);
    if (r.u32(0) !== READYTORUN_SIGNATURE) return undefined;
    return { majorVersion: r.u16(4), minorVersion: r.u16(6), flags: r.u32(8) };
  }

  /** The bytes of the ECMA-335 metadata (the CLI header's metadata directory). */
  metadataBytes(): Uint8Array {
    if (!this.cor20) throw new UnsupportedFormatError(`${this.name}: not a .NET image (no CLI header)`);
    const m = this.cor20.metadata;
    if (m.size === 0) throw new CorruptDataError(`${this.name}: the CLI header has an empty metadata directory`);
    return this.readRva(m.rva, m.size, "metadata");
  }

  /** Symbol-server key of the image itself: TimeDateStamp (8 hex, upper) + SizeOfImage (lower, minimal). */
  get symbolKey(): string {
    return this.timeDateStamp.toString(16).toUpperCase().padStart(8, "0") + this.sizeOfImage.toString(16);
  }

  private readCor20(): Cor20Header | undefined {
    const d = this.directory(DIR_CLI);
    if (!d) return undefined;
    const r = new BinaryReader(this.readRva(d.rva, Math.min(d.size, COR20_SIZE), "CLI header"), `${this.name} CLI header`);
    const dir = (o: number): DataDirectory => ({ rva: r.u32(o), size: r.u32(o + 4) });
    return {
      majorRuntimeVersion: r.u16(4),
      minorRuntimeVersion: r.u16(6),
      metadata: dir(8),
      flags: r.u32(16),
      entryPoint: r.u32(20),
      resources: dir(24),
      strongNameSignature: dir(32),
      codeManagerTable: dir(40),
      vtableFixups: dir(48),
      exportAddressTableJumps: dir(56),
      managedNativeHeader: dir(64),
    };
  }

  private bytesAt(offset: number, length: number, what: string, error: typeof CorruptDataError | typeof UnsupportedFormatError = CorruptDataError): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.source.size) {
      throw new error(`${this.name}: ${what} at offset ${offset} (+${length}) lies outside its ${this.source.size} bytes`);
    }
    const b = this.source.read(offset, length);
    if (b.length < length) throw new CorruptDataError(`${this.name}: ${what} at offset ${offset} is cut short (${b.length} of ${length} bytes)`);
    return b;
  }
}

/** A GUID stored in its binary form (u32, u16, u16, 8 bytes; little-endian) as lowercase text. */
export function formatGuid(bytes: Uint8Array, at: number): string {
  const h = (i: number): string => bytes[at + i]!.toString(16).padStart(2, "0");
  const part = (...idx: number[]): string => idx.map(h).join("");
  return `${part(3, 2, 1, 0)}-${part(5, 4)}-${part(7, 6)}-${part(8, 9)}-${part(10, 11, 12, 13, 14, 15)}`;
}

/** Symbol-server key of a PDB: the GUID (32 hex, lower) then the age; portable PDBs use FFFFFFFF. */
export function pdbSymbolKey(cv: CodeViewInfo): string {
  const guid = cv.guid.replace(/-/g, "");
  return guid + (cv.portable ? "FFFFFFFF" : cv.age.toString(16).toUpperCase());
}

/** Opens a PE file on disk (file layout), reading through a block cache. */
export function openPeFile(path: string): PeImage {
  return new PeImage(new FileByteSource(path, 1024, "a PE file"), "file", path);
}
