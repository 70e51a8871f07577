// Virtual address -> bytes for the dumped process. Bytes come from the dump's PT_LOAD segments;
// pages the dump lacks (file-backed pages that gcore and heap dumps leave out) come from the
// mapped file on disk when that file is verifiably the one that was mapped. Anything else is a
// MemoryNotInDump error: never zeros.
import { MemoryNotInDump } from "../errors.js";
import { u64OrNaN } from "./binary-reader.js";
import type { ByteSource } from "./byte-source.js";
import type { MemorySegment } from "./elf-core.js";
import type { MappedFiles } from "./mapped-files.js";
import { lastAtOrBelow } from "./sorted.js";

/** Bytes of a pointer in the target: clrscope reads 64-bit processes (x86-64; arm64 later), and the ELF reader refuses others. */
export const POINTER_SIZE = 8;

export interface Memory {
  /** Exactly `length` bytes at `address`, or throws MemoryNotInDump. */
  read(address: number, length: number): Uint8Array;
  /** Exactly `length` bytes at `address`, or undefined when any of them is missing. */
  tryRead(address: number, length: number): Uint8Array | undefined;
  /** A pointer-sized value; NaN when missing or not a safe integer (never rounded). */
  tryReadPointer(address: number): number;
  /** A full 64-bit value. */
  readU64(address: number): bigint;
  /** Where the byte at `address` comes from. */
  origin(address: number): "dump" | "file" | "missing";
  /**
   * Like tryRead, but where the dump lacks writable file-backed data, the file's bytes as the
   * loader initialized them (relocated). Only for data the process never writes after load.
   */
  tryReadAsLoaded?(address: number, length: number): Uint8Array | undefined;
}

export class AddressSpace implements Memory {
  private lastHit = 0;
  private readonly starts: Float64Array;

  constructor(
    private readonly source: ByteSource,
    private readonly segments: MemorySegment[],
    private readonly files?: MappedFiles,
  ) {
    this.starts = Float64Array.from(segments, (s) => s.start);
  }

  /** Index of the segment containing `address`, or -1. */
  private segmentIndex(address: number): number {
    const segs = this.segments;
    const hit = segs[this.lastHit];
    if (hit !== undefined && address >= hit.start && address < hit.end) return this.lastHit;
    const hi = lastAtOrBelow(this.starts, address);
    if (hi >= 0 && address < segs[hi]!.end) {
      this.lastHit = hi;
      return hi;
    }
    return -1;
  }

  /** Bytes available from the dump starting at `address` (up to `length`), possibly fewer. */
  private readFromDump(address: number, length: number): Uint8Array | undefined {
    const i = this.segmentIndex(address);
    if (i < 0) return undefined;
    const seg = this.segments[i]!;
    const offsetInSeg = address - seg.start;
    if (offsetInSeg >= seg.available) return undefined;
    const n = Math.min(length, seg.available - offsetInSeg);
    return this.source.read(seg.fileOffset + offsetInSeg, n);
  }

  tryRead(address: number, length: number): Uint8Array | undefined {
    if (!(address >= 0) || !(length >= 0) || !Number.isSafeInteger(address + length)) return undefined;
    const first = this.readFromDump(address, length) ?? this.files?.read(address, length);
    if (first === undefined) return undefined;
    if (first.length === length) return first;
    // Spans several segments (or dump + file): gather the pieces first, so that a huge length
    // over missing memory never allocates.
    const pieces = [first];
    let pos = first.length;
    while (pos < length) {
      const piece = this.readFromDump(address + pos, length - pos) ?? this.files?.read(address + pos, length - pos);
      if (piece === undefined || piece.length === 0) return undefined;
      pieces.push(piece);
      pos += piece.length;
    }
    const out = new Uint8Array(length);
    pos = 0;
    for (const p of pieces) {
      out.set(p, pos);
      pos += p.length;
    }
    return out;
  }

  tryReadAsLoaded(address: number, length: number): Uint8Array | undefined {
    const fromDump = this.readFromDump(address, length);
    if (fromDump?.length === length) return fromDump;
    return fromDump === undefined ? this.files?.read(address, length, true) : this.tryRead(address, length);
  }

  read(address: number, length: number): Uint8Array {
    const bytes = this.tryRead(address, length);
    if (bytes === undefined) throw new MemoryNotInDump(address, length);
    return bytes;
  }

  tryReadPointer(address: number): number {
    // Fast path (stack walks): the 8 bytes lie in one dump segment; no allocation.
    const i = this.segmentIndex(address);
    if (i >= 0) {
      const seg = this.segments[i]!;
      const off = address - seg.start;
      if (off + POINTER_SIZE <= seg.available) return this.source.readU64(seg.fileOffset + off);
    }
    const b = this.tryRead(address, POINTER_SIZE);
    if (b === undefined) return NaN;
    return u64OrNaN(new DataView(b.buffer, b.byteOffset, 8), 0);
  }

  readU64(address: number): bigint {
    const b = this.read(address, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  origin(address: number): "dump" | "file" | "missing" {
    if (this.readFromDump(address, 1)) return "dump";
    if (this.files?.read(address, 1)) return "file";
    return "missing";
  }
}
