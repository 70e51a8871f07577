// The metadata heaps (ECMA-335 II.24.2.2-24.2.5): #Strings (UTF-8, NUL-terminated), #Blob
// (length-prefixed bytes), #GUID (16-byte entries, 1-based) and #US (length-prefixed UTF-16 with a
// trailing flag byte). Each heap is a view on the metadata bytes; an index past the heap is damage.
import { CorruptDataError } from "../errors.js";
import { formatGuid } from "./pe.js";

const utf8 = new TextDecoder("utf-8");
const utf16 = new TextDecoder("utf-16le");

/**
 * A compressed unsigned integer (II.23.2) at `pos`: value and byte length. 1 byte below 0x80,
 * 2 bytes with top bits 10, 4 bytes with top bits 110; anything else is malformed.
 */
export function readCompressed(bytes: Uint8Array, pos: number, limit: number, what: string): { value: number; size: number } {
  if (pos >= limit) throw new CorruptDataError(`${what}: compressed integer at ${pos} is past the end (${limit})`);
  const b = bytes[pos]!;
  if (b < 0x80) return { value: b, size: 1 };
  if ((b & 0xc0) === 0x80) {
    if (pos + 2 > limit) throw new CorruptDataError(`${what}: 2-byte compressed integer at ${pos} is cut short`);
    return { value: ((b & 0x3f) << 8) | bytes[pos + 1]!, size: 2 };
  }
  if ((b & 0xe0) === 0xc0) {
    if (pos + 4 > limit) throw new CorruptDataError(`${what}: 4-byte compressed integer at ${pos} is cut short`);
    return { value: (((b & 0x1f) << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0, size: 4 };
  }
  throw new CorruptDataError(`${what}: malformed compressed integer 0x${b.toString(16)} at ${pos}`);
}

/** A heap: the bytes [start, end) of the metadata. */
class Heap {
  constructor(
    protected readonly bytes: Uint8Array,
    readonly start: number,
    readonly size: number,
    readonly name: string,
  ) {}
  protected check(offset: number): void {
    if (!(offset >= 0 && offset < this.size) && !(offset === 0 && this.size === 0)) {
      throw new CorruptDataError(`${this.name} index ${offset} is outside the heap (${this.size} bytes)`);
    }
  }
}

export class StringHeap extends Heap {
  // Names are asked for again and again (type names, member lookups): decode each once.
  private cache = new Map<number, string>();

  get(offset: number): string {
    const hit = this.cache.get(offset);
    if (hit !== undefined) return hit;
    if (offset === 0) return "";
    this.check(offset);
    const from = this.start + offset;
    const limit = this.start + this.size;
    let i = from;
    let ascii = true;
    const b = this.bytes;
    while (i < limit && b[i] !== 0) {
      if (b[i]! >= 0x80) ascii = false;
      i++;
    }
    // Short ASCII names (nearly all of them) are faster through fromCharCode than TextDecoder.
    let s: string;
    if (ascii && i - from < 64) {
      s = "";
      for (let j = from; j < i; j++) s += String.fromCharCode(b[j]!);
    } else {
      s = utf8.decode(b.subarray(from, i));
    }
    this.cache.set(offset, s);
    return s;
  }

  /** True when the string at `offset` equals `text` (ASCII `text`), without decoding it. */
  equalsAscii(offset: number, text: string): boolean {
    if (offset === 0) return text.length === 0;
    if (offset < 0 || offset >= this.size) return false;
    const at = this.start + offset;
    const limit = this.start + this.size;
    for (let k = 0; k < text.length; k++) {
      if (at + k >= limit || this.bytes[at + k] !== text.charCodeAt(k)) return false;
    }
    return at + text.length < limit ? this.bytes[at + text.length] === 0 : false;
  }
}

export class BlobHeap extends Heap {
  /** The blob at `offset`: its first byte and length within the metadata bytes. */
  locate(offset: number): { at: number; length: number } {
    if (offset === 0 && this.size === 0) return { at: this.start, length: 0 };
    this.check(offset);
    const limit = this.start + this.size;
    const { value, size } = readCompressed(this.bytes, this.start + offset, limit, this.name);
    const at = this.start + offset + size;
    if (at + value > limit) throw new CorruptDataError(`${this.name} entry at ${offset} (${value} bytes) runs past the heap`);
    return { at, length: value };
  }

  get(offset: number): Uint8Array {
    const { at, length } = this.locate(offset);
    return this.bytes.subarray(at, at + length);
  }

  /** The heap bytes from `offset` to its end (for readers that mimic SOS reading past a blob). */
  tail(offset: number): Uint8Array {
    this.check(offset);
    return this.bytes.subarray(this.start + offset, this.start + this.size);
  }
}

export class GuidHeap extends Heap {
  /** GUID number `index` (1-based; 0 is the nil GUID). */
  get(index: number): string {
    if (index === 0) return "00000000-0000-0000-0000-000000000000";
    if (index < 0 || index * 16 > this.size) throw new CorruptDataError(`${this.name} index ${index} is outside the heap (${this.size / 16} GUIDs)`);
    return formatGuid(this.bytes, this.start + (index - 1) * 16);
  }
}

export class UserStringHeap extends Heap {
  /** The string at `offset` (the low 24 bits of an 0x70 token). */
  get(offset: number): string {
    const { at, length } = this.locateEntry(offset);
    // The last byte of an entry is a flag (non-ASCII content), not part of the UTF-16 text.
    const chars = length >> 1;
    return utf16.decode(this.bytes.subarray(at, at + chars * 2));
  }

  /** Entry at `offset`: its data start and length (including the trailing flag byte). */
  locateEntry(offset: number): { at: number; length: number; next: number } {
    this.check(offset);
    const limit = this.start + this.size;
    const { value, size } = readCompressed(this.bytes, this.start + offset, limit, this.name);
    const at = this.start + offset + size;
    if (at + value > limit) throw new CorruptDataError(`${this.name} entry at ${offset} (${value} bytes) runs past the heap`);
    return { at, length: value, next: offset + size + value };
  }

  /**
   * Offsets of every entry after the empty one at 0, in heap order (the walk of
   * System.Reflection.Metadata's GetNextHandle: padding zeros count as empty entries).
   */
  offsets(): number[] {
    const out: number[] = [];
    if (this.size === 0) return out;
    let off = this.locateEntry(0).next;
    while (off < this.size) {
      out.push(off);
      off = this.locateEntry(off).next;
    }
    return out;
  }
}
