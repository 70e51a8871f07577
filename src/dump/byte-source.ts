// Random access to the bytes of a file without loading it: synchronous reads through a bounded
// LRU of fixed-size blocks. Dumps are many GB; we only ever touch headers, notes and the pages a
// command asks for.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { CannotReadError } from "../errors.js";

export interface ByteSource {
  readonly size: number;
  readonly name: string;
  /** Bytes at [offset, offset+length) clipped to the end of the source (short at EOF). */
  read(offset: number, length: number): Uint8Array;
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

  constructor(
    readonly name: string,
    private readonly maxBlocks = 2048, // 32 MiB
  ) {
    let fd: number;
    try {
      fd = openSync(name, "r");
    } catch (e) {
      throw new CannotReadError(describeOpenError(name, e));
    }
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      closeSync(fd);
      throw new CannotReadError(`${name} is a directory, not a dump file`);
    }
    this.fd = fd;
    this.size = st.size;
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
      const n = readSync(this.fd, b, done, len - done, start + done);
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
  close(): void {}
}

function describeOpenError(name: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return `${name}: no such file`;
    case "EACCES":
    case "EPERM":
      return `${name}: permission denied (run as the dump's owner or fix its mode)`;
    case "EISDIR":
      return `${name} is a directory, not a dump file`;
    default:
      return `${name}: cannot open (${code ?? String(e)})`;
  }
}
