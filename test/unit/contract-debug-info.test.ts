// The DebugInfo contract's bounds decoder on blobs written here from the format's description
// (dotnet/runtime docs/design/datacontracts/DebugInfo.md: nibble-encoded header and chunk sizes,
// 3 value bits per nibble with bit 3 saying "more", then bit-packed [source type][native offset
// delta][IL offset + 3] entries): the plain and the fat header, the prolog/epilog/no-mapping
// offsets, the widest fields, and damaged blobs (a value cut short, too many entries for the
// bytes, a native offset past the code, an absurd size) as typed errors, never wrong offsets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CorruptDataError, MemoryNotInDump } from "../../src/errors.js";
import { DebugInfoContract, type OffsetMapping } from "../../src/runtime/contracts/debug-info.js";
import { SyntheticRuntime } from "../support/descriptor-writer.js";

/** Nibbles of an unsigned value: 3-bit groups, most significant first, bit 3 set on all but the last. */
function nibblesOf(value: number): number[] {
  const groups: number[] = [];
  let v = value;
  do {
    groups.unshift(v % 8);
    v = Math.floor(v / 8);
  } while (v > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? g | 8 : g));
}

/** Nibbles packed into bytes, the first nibble in a byte's low half. */
function packNibbles(nibbles: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < nibbles.length; i += 2) out.push((nibbles[i]! & 0xf) | ((nibbles[i + 1] ?? 0) << 4));
  return out;
}

/** The bounds chunk: count, native delta bits - 1, IL bits - 1 (nibbles), then the entries bit-packed from bit 0 of the next byte. */
function boundsChunk(entries: OffsetMapping[], nativeBits: number, ilBits: number): number[] {
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

/** A debug info blob: a header (plain: bounds and vars sizes; fat: 0 then six chunk sizes) and the bounds chunk. */
function blob(bounds: number[], opts: { fat?: boolean; varsSize?: number } = {}): number[] {
  const header = opts.fat ? [0, bounds.length, opts.varsSize ?? 0, 0, 0, 0, 0] : [bounds.length, opts.varsSize ?? 0];
  return [...packNibbles(header.flatMap(nibblesOf)), ...bounds];
}

const ENTRIES: OffsetMapping[] = [
  { nativeOffset: 0, ilOffset: -2, sourceType: 2 }, // prolog, stack empty
  { nativeOffset: 0x12, ilOffset: 0, sourceType: 2 },
  { nativeOffset: 0x19, ilOffset: 0x1b, sourceType: 1 }, // a call instruction
  { nativeOffset: 0x40, ilOffset: -1, sourceType: 4 }, // no mapping, async
  { nativeOffset: 0x7fff, ilOffset: 0x3ffff, sourceType: 3 },
  { nativeOffset: 0x8000, ilOffset: -3, sourceType: 0 }, // epilog
];

function runtimeWith(bytes: number[]) {
  const rt = new SyntheticRuntime();
  rt.contract("DebugInfo", 2);
  const at = rt.memory.alloc(bytes.length + 64, 8);
  rt.memory.write(at, Uint8Array.from(bytes));
  rt.memory.drop(at + bytes.length, 64); // the blob ends where the dump does
  return { contract: new DebugInfoContract(rt.target()), at, rt };
}

describe("DebugInfo contract: bounds", () => {
  test("a plain header: every entry, IL offsets unbiased (prolog -2, no mapping -1, epilog -3), native offsets accumulated", () => {
    const { contract, at, rt } = runtimeWith(blob(boundsChunk(ENTRIES, 16, 19), { varsSize: 0 }));
    assert.ok(DebugInfoContract.isPublished(rt.target()));
    assert.deepEqual(contract.bounds(at, 0x9000), ENTRIES);
    assert.deepEqual(DebugInfoContract.ilOffsetsAt(ENTRIES, 0x18), [0]);
    assert.deepEqual(DebugInfoContract.ilOffsetsAt(ENTRIES, 0x19), [0x1b]);
    assert.deepEqual(DebugInfoContract.ilOffsetsAt(ENTRIES, 0x9000), [-3]);
  });

  test("the fat header (first value 0, then six chunk sizes), vars after the bounds, 32-bit fields", () => {
    const wide: OffsetMapping[] = [{ nativeOffset: 0xffff_fff0, ilOffset: 0x7fff_0000, sourceType: 7 }];
    const bounds = boundsChunk(wide, 32, 32);
    const { contract, at } = runtimeWith([...blob(bounds, { fat: true, varsSize: 5 }), 1, 2, 3, 4, 5]);
    assert.deepEqual(contract.bounds(at, undefined), wide);
  });

  test("no bounds (a fat header with a bounds size of 0): an empty map; a runtime without the contract says so", () => {
    const { contract, at } = runtimeWith(blob([], { fat: true, varsSize: 3 }));
    assert.deepEqual(contract.bounds(at, 100), []);
    assert.equal(DebugInfoContract.isPublished(new SyntheticRuntime().target()), false);
  });

  test("damaged blobs: typed errors, not offsets", () => {
    const good = boundsChunk(ENTRIES, 16, 19);
    // A native offset past the method's code.
    assert.throws(() => runtimeWith(blob(good)).contract.bounds(runtimeWith(blob(good)).at, 0x100), (e: unknown) => e instanceof CorruptDataError && /past its 256 bytes of code/.test(e.message));
    // More entries than the chunk's bits hold.
    const lying = [...packNibbles([...nibblesOf(1000), ...nibblesOf(15), ...nibblesOf(18)]), ...good.slice(3)];
    const l = runtimeWith(blob(lying));
    assert.throws(() => l.contract.bounds(l.at, undefined), (e: unknown) => e instanceof CorruptDataError && /impossible bounds table/.test(e.message));
    // Field widths beyond 32 bits.
    const widths = runtimeWith(blob(packNibbles([...nibblesOf(1), ...nibblesOf(40), ...nibblesOf(3)]).concat([0, 0, 0, 0, 0, 0, 0])));
    assert.throws(() => widths.contract.bounds(widths.at, undefined), CorruptDataError);
    // A value whose nibbles never end.
    const endless = runtimeWith(Array(16).fill(0xff));
    assert.throws(() => endless.contract.bounds(endless.at, undefined), (e: unknown) => e instanceof CorruptDataError && /longer than 32 bits/.test(e.message));
    // A header that claims more bounds bytes than any method has.
    const huge = runtimeWith([...packNibbles([...nibblesOf(0x7fff_ffff), ...nibblesOf(0)]), 0, 0]);
    assert.throws(() => huge.contract.bounds(huge.at, undefined), (e: unknown) => e instanceof CorruptDataError && /claims \d+ bytes of bounds/.test(e.message));
    // A chunk longer than the memory the dump holds.
    const cut = runtimeWith(blob(good).slice(0, 6));
    assert.throws(() => cut.contract.bounds(cut.at, undefined), (e: unknown) => e instanceof MemoryNotInDump || e instanceof CorruptDataError);
  });
});
