// Serves pages of file-backed mappings (NT_FILE) that the dump left out, from the files on
// disk. A file is used only when it is verifiably the one that was mapped: the first page the
// dump holds for an offset-0 mapping (ELF or PE headers, never written at run time) must equal
// the file's first page. ELF headers include the GNU build-id note, PE headers the timestamp and
// SizeOfImage, so this also checks them. gcore keeps no header page of a mapped PE file: then
// the file stands in only if its size and section table place every mapping of it exactly.
// Only bytes that still equal the process's memory are served (see file-layout.ts): read-only
// parts, RELRO after relocation, and on request writable data as the loader initialized it.
import { existsSync, statSync } from "node:fs";
import { warn } from "../warnings.js";
import { BufferByteSource, FileByteSource } from "./byte-source.js";
import { applyRelativeRelocations, describeFileLayout, peHeaders, within, type FileLayout, type PeHeaders } from "./file-layout.js";
import type { FileMapping } from "./notes.js";
import { lastAtOrBelow } from "./sorted.js";
import { hex } from "../hex.js";

export type FileStatus =
  | "verified" // headers match the dump
  | "trusted" // given by the user (--exe), dump holds no header page to compare
  | "matched" // PE file, dump holds no header page: its size and sections fit every mapping of it
  | "mismatch" // a different file now lives at that path
  | "missing" // no file on disk
  | "unverifiable"; // the dump holds no header page for it

export interface MappedFileInfo {
  path: string;
  /** The file actually opened (may differ from `path` when an override applied). */
  resolvedPath?: string;
  status: FileStatus;
  /** Why no file could be used (mismatch: what differs). */
  reason?: string;
}

const HEADER_BYTES = 4096;
const PAGE_BYTES = 4096;

interface FileState {
  info: MappedFileInfo;
  source?: FileByteSource;
  /** Which of the file's bytes can be served, computed on first use. */
  layout?: FileLayout;
}

export class MappedFiles {
  private readonly mappings: FileMapping[];
  private readonly starts: Float64Array;
  private readonly states = new Map<string, FileState>();

  constructor(
    mappings: FileMapping[],
    /** Reads from the dump's own segments only (no file fallback). */
    private readonly dumpRead: (address: number, length: number) => Uint8Array | undefined,
    /** Candidate files for a mapped path; the first that exists is used. Trusted ones skip no checks but may stand in when unverifiable. */
    private readonly candidates: (path: string) => { path: string; trusted: boolean }[] = (p) => [{ path: p, trusted: false }],
  ) {
    this.mappings = [...mappings].sort((a, b) => a.start - b.start);
    this.starts = Float64Array.from(this.mappings, (m) => m.start);
  }

  /**
   * Bytes at `address` from a mapped file, clipped at the mapping's end; undefined when the file
   * cannot vouch for them. `asLoaded` also serves writable data as the loader left it: only for
   * data the process never writes (the caller must know).
   */
  read(address: number, length: number, asLoaded = false): Uint8Array | undefined {
    const m = this.mappingAt(address);
    if (!m) return undefined;
    const state = this.state(m.path);
    if (!state.source) {
      warnUnserved(state.info);
      return undefined;
    }
    const n = Math.min(length, m.end - address);
    const offset = m.fileOffset + (address - m.start);
    const bytes = state.source.read(offset, n);
    if (bytes.length === 0) return undefined;
    const layout = (state.layout ??= describeFileLayout(state.source));
    const end = offset + bytes.length;
    if (within(layout.readOnly, offset, end)) return bytes;
    if (!layout.relocationsKnown || !(within(layout.relro, offset, end) || (asLoaded && within(layout.writable, offset, end)))) return undefined;
    const copy = bytes.slice();
    return applyRelativeRelocations(layout, copy, offset, this.loadBias(m.path, layout)) ? copy : undefined;
  }

  /** Runtime address minus link-time address, from the mapping of file offset 0. */
  private loadBias(path: string, layout: FileLayout): number {
    const head = this.mappings.find((m) => m.path === path && m.fileOffset === 0);
    return head ? head.start - layout.vaddrOfOffsetZero : NaN;
  }

  mappingAt(address: number): FileMapping | undefined {
    const m = this.mappings[lastAtOrBelow(this.starts, address)];
    return m && address < m.end ? m : undefined;
  }

  /** Every file the process had mapped (ELF or not) and whether its pages can be read from disk. */
  describe(): MappedFileInfo[] {
    return [...new Set(this.mappings.map((m) => m.path))].map((p) => this.state(p).info);
  }

  info(path: string): MappedFileInfo {
    return this.state(path).info;
  }

  private state(path: string): FileState {
    let s = this.states.get(path);
    if (!s) {
      s = this.open(path);
      this.states.set(path, s);
    }
    return s;
  }

  private open(path: string): FileState {
    const mine = this.mappings.filter((m) => m.path === path);
    const headInDump = this.headerInDump(mine);
    let mismatch: string | undefined;
    for (const c of this.candidates(path)) {
      if (!existsSync(c.path) || !statSync(c.path).isFile()) continue;
      let source: FileByteSource;
      try {
        source = new FileByteSource(c.path, 128);
      } catch {
        continue;
      }
      if (headInDump) {
        const n = Math.min(headInDump.length, source.size);
        if (Buffer.compare(headInDump.subarray(0, n), source.read(0, n)) === 0) return { info: { path, resolvedPath: c.path, status: "verified" }, source };
        mismatch = `${c.path} differs from the dump's copy of its headers${peDifference(headInDump, source)}`;
        source.close();
        continue;
      }
      if (c.trusted) return { info: { path, resolvedPath: c.path, status: "trusted" }, source };
      const pe = peHeaders(source);
      const misfit = pe && peMappingMisfit(pe, source.size, mine);
      if (pe && !misfit) return { info: { path, resolvedPath: c.path, status: "matched" }, source };
      source.close();
      if (!pe) return { info: { path, resolvedPath: c.path, status: "unverifiable", reason: `the dump holds no page of its headers to verify ${c.path}` } };
      mismatch = `${c.path} ${misfit}`;
    }
    return { info: { path, status: mismatch ? "mismatch" : "missing", reason: mismatch ?? "no such file on disk" } };
  }

  /** The dump's copy of the file's first page: any mapping of offset 0 may hold it (a PE file is mapped flat and as an image). */
  private headerInDump(mappings: FileMapping[]): Uint8Array | undefined {
    for (const m of mappings) {
      if (m.fileOffset !== 0) continue;
      const n = Math.min(HEADER_BYTES, m.end - m.start);
      const bytes = this.dumpRead(m.start, n);
      if (bytes && bytes.length === n) return bytes;
    }
    return undefined;
  }

  close(): void {
    for (const s of this.states.values()) s.source?.close();
    this.states.clear();
  }
}

/** Once per command and file: pages of it were asked for and neither the dump nor the disk has them. */
function warnUnserved(info: MappedFileInfo): void {
  warn(`the dump leaves out pages of ${info.path} and they cannot be read from disk (${info.reason ?? info.status}): what the process had mapped from it is unknown, so names and frames from it may be missing`);
}

/** ": PE timestamp ... and SizeOfImage ..." when both are PE headers, else nothing more to say. */
function peDifference(headInDump: Uint8Array, file: FileByteSource): string {
  const a = peHeaders(new BufferByteSource(headInDump, "dump"));
  const b = peHeaders(file);
  if (!a || !b) return "";
  return `: PE timestamp ${hex(b.timestamp)} and SizeOfImage ${hex(b.sizeOfImage)}, the dump's ${hex(a.timestamp)} and ${hex(a.sizeOfImage)}`;
}

const pageUp = (n: number): number => Math.ceil(n / PAGE_BYTES) * PAGE_BYTES;

/**
 * Why the mappings of a PE file cannot come from this file, or undefined when each fits: the
 * runtime maps a PE file flat (the whole file from offset 0) or as an image (headers at the
 * base, each section at base + VirtualAddress from PointerToRawData, page-rounded down alike).
 */
function peMappingMisfit(pe: PeHeaders, fileSize: number, mappings: FileMapping[]): string | undefined {
  let base = NaN;
  for (const m of mappings) {
    const length = m.end - m.start;
    if (m.fileOffset === 0 && length === pageUp(fileSize)) continue; // flat
    const rva = m.start - base;
    const inImage = rva >= 0 && m.end - base <= pageUp(pe.sizeOfImage);
    const section = inImage && pe.sections.some((s) => rva - m.fileOffset === s.virtualAddress - s.rawPointer && m.fileOffset + length <= pageUp(s.rawPointer + s.rawSize));
    if (section) continue;
    if (m.fileOffset === 0 && length <= pageUp(pe.sizeOfHeaders)) {
      base = m.start; // the headers of a new image
      continue;
    }
    return `(${fileSize} bytes, SizeOfImage ${hex(pe.sizeOfImage)}) does not fit its mapping at ${hex(m.start)} (file offset ${hex(m.fileOffset)}, ${hex(length)} bytes)`;
  }
  return undefined;
}
