// Writes the runtime's compressed debug info as its NibbleWriter does (dotnet/runtime
// docs/design/datacontracts/DebugInfo.md): unsigned values as 3-bit groups, most significant
// first, bit 3 set on all but the last; nibbles packed two a byte, low half first; the bounds
// chunk's entries bit-packed [3 bits source type][native offset delta][IL offset + 3].
import type { OffsetMapping } from "../../src/runtime/contracts/debug-info.js";

/** The nibbles of an unsigned value. */
export function nibblesOf(value: number): number[] {
  const groups: number[] = [];
  let v = value;
  do {
    groups.unshift(v % 8);
    v = Math.floor(v / 8);
  } while (v > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? g | 8 : g));
}

/** Nibbles packed into bytes, the first nibble in a byte's low half. */
export function packNibbles(nibbles: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < nibbles.length; i += 2) out.push((nibbles[i]! & 0xf) | ((nibbles[i + 1] ?? 0) << 4));
  return out;
}

/** The bounds chunk: count, native delta bits - 1, IL bits - 1 (nibbles), then the entries bit-packed from bit 0 of the next byte. */
export function boundsChunk(entries: OffsetMapping[], nativeBits: number, ilBits: number): number[] {
  const head = packNibbles([...nibblesOf(entries.length), ...nibblesOf(nativeBits - 1), ...nibblesOf(ilBits - 1)]);
  const bits: number[] = [];
  const put = (v: number, width: number) => {
    for (let i = 0; i < width; i++) bits.push(Math.floor(v / 2 ** i) % 2);
  };
  let previous = 0;
  for (const e of entries) {
    put(e.sourceType, 3);
    put(e.nativeOffset - previous, nativeBits);
    put(e.ilOffset + 3, ilBits);
    previous = e.nativeOffset;
  }
  const body: number[] = [];
  for (let i = 0; i < bits.length; i += 8) body.push(bits.slice(i, i + 8).reduce((b, bit, j) => b | (bit << j), 0));
  return [...head, ...body];
}
