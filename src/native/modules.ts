// The native module list: ELF images found through NT_FILE mappings, the dynamic linker's
// r_debug/link_map list (which still names modules whose files were deleted or that NT_FILE
// omits), and the vDSO from the auxiliary vector. Symbols load lazily per module.
import { basename } from "node:path";
import type { Memory } from "../dump/address-space.js";
import type { FileMapping } from "../dump/notes.js";
import { AT_PHDR, AT_PHNUM, AT_SYSINFO_EHDR } from "../dump/notes.js";
import type { FileStatus, MappedFiles } from "../dump/mapped-files.js";
import { PHDR_SIZE, PT_DYNAMIC, PT_PHDR, parseProgramHeaders, type ElfHeader } from "../dump/elf-format.js";
import { ElfFile } from "./elf-file.js";
import { DEFAULT_DEBUG_DIRS, findDebugFile } from "./debug-files.js";
import { DT_DEBUG, addDynamicSymbols, isElfAt, readDynamic, readLoadedImage, type LoadedImage } from "./loaded-image.js";

/** The last part of a "/"-separated path ("" when it ends with "/"): a module's file name as SOS shows it. */
export function fileNameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
import { SymbolTableBuilder, type SymbolTable } from "./symbol-table.js";
import { lastAtOrBelow } from "../dump/sorted.js";
import { rethrowIfBug } from "../errors.js";
import { MAX_LINK_MAP_ENTRIES } from "../limits.js";

export type SymbolSource = "debug-file" | "file" | "memory" | "none";

export interface NativeModule {
  name: string;
  path: string;
  /** Load address of the ELF header. */
  base: number;
  start: number;
  end: number;
  bias: number;
  buildId?: string;
  image?: LoadedImage;
  /** How the file on disk relates to the dump (NT_FILE mappings only). */
  fileStatus: FileStatus | "memory-only";
  /** Which lists named this module. */
  foundBy: ("nt_file" | "link_map" | "auxv")[];
}

export interface ModuleSymbols {
  table: SymbolTable;
  source: SymbolSource;
  /** The file the symbols came from. */
  from?: string;
}

export interface ModuleListOptions {
  /** Extra debug-file directories (--symbols DIR), searched before the system ones. */
  debugDirs: string[];
}

export class ModuleList {
  readonly modules: NativeModule[];
  private readonly starts: Float64Array;
  private readonly symbolCache = new Map<NativeModule, ModuleSymbols>();

  constructor(
    private readonly mem: Memory,
    files: FileMapping[],
    auxv: Map<number, number>,
    private readonly mapped: MappedFiles | undefined,
    private readonly options: ModuleListOptions,
  ) {
    const found = modulesFromMappings(mem, files, mapped);
    for (const m of modulesFromLinkMap(mem, auxv)) {
      const known = found.find((k) => k.base === m.base || (m.start >= k.start && m.start < k.end));
      if (known) {
        if (!known.foundBy.includes("link_map")) known.foundBy.push("link_map");
      } else {
        found.push(m);
      }
    }
    const vdso = auxv.get(AT_SYSINFO_EHDR);
    if (vdso !== undefined && !found.some((k) => k.base === vdso)) {
      const image = readLoadedImage(mem, vdso, "[vdso]");
      if (image) found.push(moduleFrom("[vdso]", image, "memory-only", "auxv"));
    }
    this.modules = found.sort((a, b) => a.start - b.start);
    this.starts = Float64Array.from(this.modules, (m) => m.start);
  }

  /** The module whose address range contains `address`. */
  at(address: number): NativeModule | undefined {
    const hi = lastAtOrBelow(this.starts, address);
    const m = this.modules[hi];
    return m && address < m.end ? m : undefined;
  }

  byName(name: string): NativeModule | undefined {
    return this.modules.find((m) => m.name === name || m.path === name);
  }

  /**
   * Symbols for a module: a separate debug file (by build-id) if any, else the module file
   * itself when it matches the dump, else the dynamic symbol table in dump memory.
   */
  symbols(m: NativeModule): ModuleSymbols {
    let s = this.symbolCache.get(m);
    if (!s) {
      s = this.loadSymbols(m);
      this.symbolCache.set(m, s);
    }
    return s;
  }

  private loadSymbols(m: NativeModule): ModuleSymbols {
    const builder = new SymbolTableBuilder();
    let source: SymbolSource = "none";
    let from: string | undefined;
    const file = this.openModuleFile(m);
    try {
      const debug = findDebugFile({ buildId: m.buildId, path: m.path, debugLink: file?.debugLink() }, [...this.options.debugDirs, ...DEFAULT_DEBUG_DIRS]);
      if (debug) {
        try {
          debug.addSymbols(builder);
        } finally {
          debug.close();
        }
        source = "debug-file";
        from = debug.path;
      }
      // A debug file's .symtab already holds what the file's .dynsym has.
      if (source === "none" && file && file.addSymbols(builder) > 0) {
        source = "file";
        from = file.path;
      }
    } catch (e) {
      rethrowIfBug(e);
      // A damaged symbol file must not stop symbolization from other sources.
    } finally {
      file?.close();
    }
    if (builder.count === 0 && m.image && addDynamicSymbols(this.mem, m.image, builder) > 0) source = "memory";
    return { table: builder.build(), source, from };
  }

  /** The module's own file, only if it is the file that was mapped (headers match the dump). */
  private openModuleFile(m: NativeModule): ElfFile | undefined {
    const info = this.mapped?.info(m.path);
    const path = info && (info.status === "verified" || info.status === "trusted") ? info.resolvedPath : undefined;
    if (!path) return undefined;
    try {
      return new ElfFile(path);
    } catch (e) {
      rethrowIfBug(e);
      return undefined;
    }
  }
}

function moduleFrom(path: string, image: LoadedImage, fileStatus: NativeModule["fileStatus"], foundBy: NativeModule["foundBy"][number]): NativeModule {
  return {
    name: basename(path.replace(/ \(deleted\)$/, "")),
    path,
    base: image.base,
    start: image.start,
    end: image.end,
    bias: image.bias,
    buildId: image.buildId,
    image,
    fileStatus,
    foundBy: [foundBy],
  };
}

/** One module per offset-0 mapping of a file that holds an ELF header. */
function modulesFromMappings(mem: Memory, files: FileMapping[], mapped: MappedFiles | undefined): NativeModule[] {
  const out: NativeModule[] = [];
  const sorted = [...files].sort((a, b) => a.start - b.start);
  for (const f of sorted) {
    if (f.fileOffset !== 0 || !isElfAt(mem, f.start)) continue;
    const image = readLoadedImage(mem, f.start, f.path);
    // Extend over this file's following mappings (the image's segments) when headers are unreadable.
    const end = image?.end ?? lastMappingEnd(sorted, f);
    const status = mapped?.info(f.path).status ?? "missing";
    const m = image ? moduleFrom(f.path, image, status, "nt_file") : undefined;
    out.push(m ?? { name: basename(f.path), path: f.path, base: f.start, start: f.start, end, bias: f.start, fileStatus: status, foundBy: ["nt_file"] });
  }
  return out;
}

function lastMappingEnd(sorted: FileMapping[], first: FileMapping): number {
  let end = first.end;
  for (const f of sorted) if (f.path === first.path && f.start >= first.start && f.start <= end + (1 << 21)) end = Math.max(end, f.end);
  return end;
}


/**
 * Walk r_debug.r_map (glibc <link.h>: struct r_debug { int r_version; struct link_map *r_map; ...}
 * and struct link_map { l_addr, l_name, l_ld, l_next, l_prev }), found via the main program's
 * DT_DEBUG entry. These are glibc's public ABI structures.
 */
function modulesFromLinkMap(mem: Memory, auxv: Map<number, number>): NativeModule[] {
  const phdrAddr = auxv.get(AT_PHDR);
  const phnum = auxv.get(AT_PHNUM);
  if (phdrAddr === undefined || phnum === undefined || phnum > 256) return [];
  const mainDynamic = findMainDynamic(mem, phdrAddr, phnum);
  if (mainDynamic === undefined) return [];
  const rDebug = mainDynamic.get(DT_DEBUG);
  if (!rDebug) return [];
  const out: NativeModule[] = [];
  const seen = new Set<number>();
  let entry = mem.tryReadPointer(rDebug + 8);
  for (let i = 0; i < MAX_LINK_MAP_ENTRIES && entry > 0 && !seen.has(entry); i++) {
    seen.add(entry);
    const lAddr = mem.tryReadPointer(entry);
    const namePtr = mem.tryReadPointer(entry + 8);
    const name = Number.isNaN(namePtr) ? "" : readCString(mem, namePtr);
    if (i > 0 && name !== "" && lAddr > 0) {
      const image = readLoadedImage(mem, lAddr, name);
      if (image) out.push(moduleFrom(name, image, "memory-only", "link_map"));
    }
    entry = mem.tryReadPointer(entry + 24);
  }
  return out;
}

function findMainDynamic(mem: Memory, phdrAddr: number, phnum: number): Map<number, number> | undefined {
  // The executable's program headers sit in memory at AT_PHDR; PT_PHDR's vaddr gives the bias.
  const table = mem.tryRead(phdrAddr, phnum * PHDR_SIZE);
  if (!table) return undefined;
  let phdrs;
  try {
    phdrs = parseProgramHeaders("main program", { phnum } as ElfHeader, table);
  } catch (e) {
    rethrowIfBug(e);
    return undefined;
  }
  const self = phdrs.find((p) => p.type === PT_PHDR);
  const dynamic = phdrs.find((p) => p.type === PT_DYNAMIC);
  if (!self || !dynamic) return undefined;
  return readDynamic(mem, dynamic.vaddr + (phdrAddr - self.vaddr));
}

function readCString(mem: Memory, address: number, max = 4096): string {
  const bytes: number[] = [];
  for (let a = address; bytes.length < max; a += 64) {
    const chunk = mem.tryRead(a, 64) ?? mem.tryRead(a, 1);
    if (!chunk) break;
    const z = chunk.indexOf(0);
    if (z >= 0) {
      bytes.push(...chunk.subarray(0, z));
      break;
    }
    bytes.push(...chunk);
  }
  return Buffer.from(bytes).toString("utf8");
}
