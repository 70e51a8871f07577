// Little-endian field reads over a byte array, bounds-checked. A read past the end throws
// CorruptDataError naming what was being read, so a damaged count or offset can never turn
// into a RangeError deep inside a parser.
import { CorruptDataError } from "../errors.js";

const TWO_32 = 0x1_0000_0000;

export class BinaryReader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  check(offset: number, size: number): void {
    if (offset < 0 || offset + size > this.bytes.length || !Number.isSafeInteger(offset)) {
      throw new CorruptDataError(`${this.what}: field at offset ${offset} (+${size}) lies outside its ${this.bytes.length} bytes`);
    }
  }
  /** `o`, after checking that `size` bytes are there. */
  checked(o: number, size: number): number {
    this.check(o, size);
    return o;
  }
  u8(o: number): number {
    this.check(o, 1);
    return this.bytes[o]!;
  }
  u16(o: number): number {
    this.check(o, 2);
    return this.view.getUint16(o, true);
  }
  u32(o: number): number {
    this.check(o, 4);
    return this.view.getUint32(o, true);
  }
  i32(o: number): number {
    this.check(o, 4);
    return this.view.getInt32(o, true);
  }
  /** A 64-bit value that must fit in a JS number (addresses, sizes, offsets). */
  u64(o: number): number {
    this.check(o, 8);
    const lo = this.view.getUint32(o, true);
    const hi = this.view.getUint32(o + 4, true);
    if (hi >= 0x20_0000) {
      throw new CorruptDataError(`${this.what}: 64-bit value at offset ${o} (0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}) is too large for an address or size`);
    }
    return hi * TWO_32 + lo;
  }
  /** A full 64-bit value (registers, raw words). */
  u64big(o: number): bigint {
    this.check(o, 8);
    return this.view.getBigUint64(o, true);
  }
  /** NUL-terminated string starting at o, at most `max` bytes. */
  cstring(o: number, max = this.bytes.length - o): string {
    this.check(o, 0);
    const end = Math.min(this.bytes.length, o + max);
    let i = o;
    while (i < end && this.bytes[i] !== 0) i++;
    return textDecoder.decode(this.bytes.subarray(o, i));
  }
}

export const textDecoder = new TextDecoder("utf-8");

/** Read a u64 from a byte array at o as a safe JS number, or NaN if it does not fit. */
export function u64OrNaN(view: DataView, o: number): number {
  const hi = view.getUint32(o + 4, true);
  if (hi >= 0x20_0000) return NaN;
  return hi * TWO_32 + view.getUint32(o, true);
}
