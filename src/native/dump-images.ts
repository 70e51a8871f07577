// The images of a core dump as dotnet-dump lists them (SOS `modules`/`lm`, ModulesCommand.cs over
// ClrMD's CoreDumpReader and ModuleServiceFromDataReader): every file NT_FILE maps, native or
// PE, one row per path. Its base is the first mapping at file offset 0 (else the lowest); its size
// is, for an ELF image, the span of its mappings (the ClrMD in dotnet-dump 10.0.750501 does not
// add the anonymous tail of a PT_LOAD), for a PE file its SizeOfImage; files that are neither (size 0), the dynamic loader and /dev files are left
// out, and a size that runs into the next image is cut at that image's base. Headers are read
// from the dump only, as ClrMD does: pages served from files on disk do not count.
import type { CoreFile } from "../dump/elf-core.js";
import type { AddressSpace } from "../dump/address-space.js";
import { AT_BASE } from "../dump/notes.js";
import { MAX_DUMP_IMAGES } from "../limits.js";

export interface DumpImage {
  base: number;
  size: number;
  path: string;
  kind: "elf" | "pe";
}

const ELF_MAGIC = 0x464c457f; // "\x7fELF"
const ELF_CLASS_64 = 2;
const MZ = 0x5a4d;
const PE_SIGNATURE = 0x00004550; // "PE\0\0"
/** SizeOfImage's offset in the optional header (PE32 and PE32+ alike). */
const SIZE_OF_IMAGE_AT = 56;
const OPTIONAL_HEADER_AT = 24;
const MAX_PE_HEADER_OFFSET = 0x1000;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes at `address` when the dump itself holds them (not served from a file on disk). */
function fromDump(memory: AddressSpace, address: number, length: number): DataView | undefined {
  if (memory.origin(address) !== "dump" || memory.origin(address + length - 1) !== "dump") return undefined;
  const bytes = memory.tryRead(address, length);
  return bytes ? view(bytes) : undefined;
}

/** `base` holds a 64-bit ELF header in the dump. */
function isElfImage(memory: AddressSpace, base: number): boolean {
  const h = fromDump(memory, base, 5);
  return h !== undefined && h.getUint32(0, true) === ELF_MAGIC && h.getUint8(4) === ELF_CLASS_64;
}

/** SizeOfImage of the PE image whose headers are at `base`; 0 when there is none. */
function peSizeOfImage(memory: AddressSpace, base: number): number {
  const dos = fromDump(memory, base, 64);
  if (!dos || dos.getUint16(0, true) !== MZ) return 0;
  const lfanew = dos.getUint32(0x3c, true);
  if (lfanew > MAX_PE_HEADER_OFFSET) return 0;
  const nt = fromDump(memory, base + lfanew, OPTIONAL_HEADER_AT + SIZE_OF_IMAGE_AT + 4);
  if (!nt || nt.getUint32(0, true) !== PE_SIGNATURE) return 0;
  return nt.getUint32(OPTIONAL_HEADER_AT + SIZE_OF_IMAGE_AT, true);
}

export function dumpImages(core: CoreFile, memory: AddressSpace): DumpImage[] {
  const byPath = new Map<string, { base: number; lowest: number; end: number }>();
  for (const f of core.files) {
    const path = f.path.replace(" (deleted)", "");
    let e = byPath.get(path);
    if (!e) {
      if (byPath.size >= MAX_DUMP_IMAGES) break;
      e = { base: 0, lowest: f.start, end: f.end };
      byPath.set(path, e);
    }
    e.end = Math.max(e.end, f.end);
    if (e.base === 0 && f.fileOffset === 0) e.base = f.start;
    e.lowest = Math.min(e.lowest, f.start);
  }
  const interpreter = core.auxv.get(AT_BASE);
  const images: DumpImage[] = [];
  for (const [path, e] of byPath) {
    const base = e.base || e.lowest;
    if (base === interpreter || path.startsWith("/dev")) continue;
    const image: DumpImage = isElfImage(memory, base) ? { base, size: e.end - base, path, kind: "elf" } : { base, size: peSizeOfImage(memory, base), path, kind: "pe" };
    if (image.size > 0) images.push(image);
  }
  images.sort((a, b) => a.base - b.base);
  for (let i = 0; i + 1 < images.length; i++) {
    const next = images[i + 1]!.base;
    if (images[i]!.base + images[i]!.size > next) images[i]!.size = next - images[i]!.base;
  }
  // Two paths at one base: the first stays (ModuleServiceFromDataReader's dictionary by base).
  return images.filter((m, i) => i === 0 || m.base !== images[i - 1]!.base);
}
