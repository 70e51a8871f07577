// Serves pages of file-backed mappings (NT_FILE) that the dump left out, from the files on
// disk. A file is used only when it is verifiably the one that was mapped: the first page the
// dump holds for its offset-0 mapping (ELF or PE headers, never written at run time) must equal
// the file's first page. ELF headers include the GNU build-id note, so this also checks it.
// Only bytes that still equal the process's memory are served (see file-layout.ts): read-only
// parts, RELRO after relocation, and on request writable data as the loader initialized it.
import { existsSync, statSync } from "node:fs";
import { FileByteSource } from "./byte-source.js";
import { applyRelativeRelocations, describeFileLayout, within, type FileLayout } from "./file-layout.js";
import type { FileMapping } from "./notes.js";
import { lastAtOrBelow } from "./sorted.js";

export type FileStatus =
  | "verified" // headers match the dump
  | "trusted" // given by the user (--exe), dump holds no header page to compare
  | "mismatch" // a different file now lives at that path
  | "missing" // no file on disk
  | "unverifiable"; // the dump holds no header page for it

export interface MappedFileInfo {
  path: string;
  /** The file actually opened (may differ from `path` when an override applied). */
  resolvedPath?: string;
  status: FileStatus;
}

const HEADER_BYTES = 4096;

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
    if (!state.source) return undefined;
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
    const head = this.mappings.find((m) => m.path === path && m.fileOffset === 0);
    let sawMismatch = false;
    for (const c of this.candidates(path)) {
      if (!existsSync(c.path) || !statSync(c.path).isFile()) continue;
      let source: FileByteSource;
      try {
        source = new FileByteSource(c.path, 128);
      } catch {
        continue;
      }
      const n = Math.min(HEADER_BYTES, source.size, head ? head.end - head.start : 0);
      const inDump = head && n > 0 ? this.dumpRead(head.start, n) : undefined;
      if (inDump && inDump.length === n) {
        if (Buffer.compare(inDump, source.read(0, n)) === 0) return { info: { path, resolvedPath: c.path, status: "verified" }, source };
        sawMismatch = true;
        source.close();
        continue;
      }
      if (c.trusted) return { info: { path, resolvedPath: c.path, status: "trusted" }, source };
      source.close();
      return { info: { path, resolvedPath: c.path, status: "unverifiable" } };
    }
    return { info: { path, status: sawMismatch ? "mismatch" : "missing" } };
  }

  close(): void {
    for (const s of this.states.values()) s.source?.close();
    this.states.clear();
  }
}
