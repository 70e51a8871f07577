// Random access to the bytes of a file without loading it: synchronous reads through a bounded
// LRU of fixed-size blocks. Dumps are many GB; we only ever touch headers, notes and the pages a
// command asks for.
import { closeSync, readSync } from "node:fs";
import { CannotReadError } from "../errors.js";
import { openRegularFile } from "./regular-file.js";
import { u64OrNaN } from "./binary-reader.js";

export interface ByteSource {
  readonly size: number;
  readonly name: string;
  /** Bytes at [offset, offset+length) clipped to the end of the source (short at EOF). */
  read(offset: number, length: number): Uint8Array;
  /** The 8 bytes at `offset` as a safe integer; NaN past the end or when the value exceeds 2^53. No allocation. */
  readU64(offset: number): number;
  close(): void;
}

// 16 KiB blocks: one syscall serves the many small nearby reads of an unwind or a header walk
// without pulling in much more than is needed (stack walks touch a few KB per thread).
const BLOCK_SHIFT = 14;
const BLOCK_SIZE = 1 << BLOCK_SHIFT;

export class FileByteSource implements ByteSource {
  readonly size: number;
  private fd: number;
  // Map iteration order is insertion order: re-inserting on hit gives LRU eviction for free.
  private blocks = new Map<number, Uint8Array>();
  // The last block used and a DataView on it: pointer reads in a stack walk hit it repeatedly.
  private lastIndex = -1;
  private lastView: DataView = new DataView(new ArrayBuffer(0));

  constructor(
    readonly name: string,
    private readonly maxBlocks = 2048, // 32 MiB
    /** What the file should be, for the error when it is not a regular file. */
    role = "a dump file",
  ) {
    const { fd, size } = openRegularFile(name, role);
    this.fd = fd;
    this.size = size;
  }

  /** The cached block holding `offset` (shorter than BLOCK_SIZE only at EOF). */
  block(index: number): Uint8Array {
    let b = this.blocks.get(index);
    if (b !== undefined) {
      this.blocks.delete(index);
      this.blocks.set(index, b);
      return b;
    }
    const start = index * BLOCK_SIZE;
    const len = Math.max(0, Math.min(BLOCK_SIZE, this.size - start));
    b = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      let n: number;
      try {
        n = readSync(this.fd, b, done, len - done, start + done);
      } catch (e) {
        throw new CannotReadError(`${this.name}: read failed at offset ${start + done} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      if (n === 0) break;
      done += n;
    }
    if (done < len) b = b.subarray(0, done);
    if (this.blocks.size >= this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
    this.blocks.set(index, b);
    return b;
  }

  readU64(offset: number): number {
    const index = Math.floor(offset / BLOCK_SIZE);
    const at = offset - index * BLOCK_SIZE;
    if (at + 8 > BLOCK_SIZE) return readU64Slow(this, offset);
    if (index !== this.lastIndex) {
      const b = this.block(index);
      this.lastIndex = index;
      this.lastView = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    if (at + 8 > this.lastView.byteLength) return NaN;
    return u64OrNaN(this.lastView, at);
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((end - 1) / BLOCK_SIZE);
    if (first === last) {
      const b = this.block(first);
      const from = offset - first * BLOCK_SIZE;
      return b.subarray(from, Math.min(from + (end - offset), b.length));
    }
    const out = new Uint8Array(end - offset);
    let pos = 0;
    for (let i = first; i <= last; i++) {
      const b = this.block(i);
      const from = i === first ? offset - i * BLOCK_SIZE : 0;
      const to = Math.min(b.length, end - i * BLOCK_SIZE);
      out.set(b.subarray(from, to), pos);
      pos += to - from;
    }
    return out.subarray(0, pos);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.blocks.clear();
    this.lastIndex = -1;
  }
}

/** A ByteSource over bytes already in memory (tests, small files, browser Blobs read whole). */
export class BufferByteSource implements ByteSource {
  readonly size: number;
  constructor(
    private readonly bytes: Uint8Array,
    readonly name = "<buffer>",
  ) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(Math.min(offset, this.size), Math.min(offset + length, this.size));
  }
  readU64(offset: number): number {
    return readU64Slow(this, offset);
  }
  close(): void {}
}

function readU64Slow(source: ByteSource, offset: number): number {
  const b = source.read(offset, 8);
  return b.length === 8 ? u64OrNaN(new DataView(b.buffer, b.byteOffset, 8), 0) : NaN;
}

/** Bytes replaced at a file offset (corruption tests; repairing a known-bad byte). */
export interface BytePatch {
  offset: number;
  bytes: Uint8Array;
}

/** How a dump is altered as it is read: patches applied in order, then a cut at `truncateAt`. */
export interface DumpAlterations {
  patches?: BytePatch[];
  truncateAt?: number;
}

/**
 * A ByteSource that shows another one with bytes replaced and optionally cut short, without
 * copying the file: how the corruption tests damage a multi-GB dump in place.
 */
export class PatchedByteSource implements ByteSource {
  readonly size: number;
  private readonly patches: BytePatch[];

  constructor(
    private readonly inner: ByteSource,
    alterations: DumpAlterations,
  ) {
    this.size = Math.min(inner.size, Math.max(0, alterations.truncateAt ?? inner.size));
    this.patches = (alterations.patches ?? []).filter((p) => p.bytes.length > 0 && p.offset < this.size);
  }

  get name(): string {
    return this.inner.name;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    const base = this.inner.read(offset, end - offset);
    let out: Uint8Array | undefined;
    for (const p of this.patches) {
      const from = Math.max(offset, p.offset);
      const to = Math.min(end, p.offset + p.bytes.length);
      if (from >= to) continue;
      out ??= Uint8Array.from(base); // never write into the inner source's cached block
      out.set(p.bytes.subarray(from - p.offset, to - p.offset), from - offset);
    }
    return out ?? base;
  }

  readU64(offset: number): number {
    return readU64Slow(this, offset);
  }

  close(): void {
    this.inner.close();
  }
}
