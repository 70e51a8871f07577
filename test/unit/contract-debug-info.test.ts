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
import { boundsChunk, nibblesOf, packNibbles } from "../support/debug-info-writer.js";
import { SyntheticRuntime } from "../support/descriptor-writer.js";

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

/** A signed value's nibbles: the magnitude shifted left by one, the sign in the low bit. */
function signedNibbles(value: number): number[] {
  return nibblesOf(value < 0 ? -value * 2 + 1 : value * 2);
}

/**
 * The vars chunk as .NET 11.0.0 writes it: the count, then per variable its number plus 6, the
 * start offset, the length, the location type and the location's fields (registers unsigned,
 * stack offsets signed).
 */
function varsChunk(vars: { varNumber: number; start: number; end: number; loc: number[] }[]): number[] {
  return packNibbles([
    ...nibblesOf(vars.length),
    ...vars.flatMap((v) => [...nibblesOf(v.varNumber + 6), ...nibblesOf(v.start), ...nibblesOf(v.end - v.start), ...v.loc]),
  ]);
}

describe("DebugInfo contract: native variables", () => {
  const VARS = [
    // `this` in RDI (register 7) over the prolog, then on the stack at [RBP-8].
    { varNumber: 0, start: 0, end: 0x22, loc: [...nibblesOf(0), ...nibblesOf(7)] },
    { varNumber: 0, start: 0x22, end: 0x1d0, loc: [...nibblesOf(3), ...nibblesOf(5), ...signedNibbles(-8)] },
    // The generic context (-3) in RBX; a local by reference at [RSP+0x30]; a local in XMM1.
    { varNumber: -3, start: 4, end: 0x1c0, loc: [...nibblesOf(0), ...nibblesOf(3)] },
    { varNumber: 2, start: 0x30, end: 0x31, loc: [...nibblesOf(4), ...nibblesOf(4), ...signedNibbles(0x30)] },
    { varNumber: 3, start: 0x40, end: 0x90, loc: [...nibblesOf(2), ...nibblesOf(1)] },
    // A value split between a register and the stack: no single location.
    { varNumber: 4, start: 0x41, end: 0x91, loc: [...nibblesOf(6), ...nibblesOf(0), ...nibblesOf(5), ...signedNibbles(-0x7ffff)] },
    { varNumber: 5, start: 0x42, end: 0x92, loc: [...nibblesOf(1), ...nibblesOf(12)] },
  ];

  test("every variable after the bounds: its number (special ones negative), range and location", () => {
    const bounds = boundsChunk(ENTRIES, 16, 19);
    const vars = varsChunk(VARS);
    const { contract, at } = runtimeWith(blob(bounds, { fat: true, varsSize: vars.length }).concat(vars));
    assert.deepEqual(contract.vars(at), [
      { varNumber: 0, startOffset: 0, endOffset: 0x22, location: { kind: "register", register: 7 } },
      { varNumber: 0, startOffset: 0x22, endOffset: 0x1d0, location: { kind: "stack", baseRegister: 5, offset: -8 } },
      { varNumber: -3, startOffset: 4, endOffset: 0x1c0, location: { kind: "register", register: 3 } },
      { varNumber: 2, startOffset: 0x30, endOffset: 0x31, location: { kind: "stack-byref", baseRegister: 4, offset: 0x30 } },
      { varNumber: 3, startOffset: 0x40, endOffset: 0x90, location: { kind: "fp-register", register: 1 } },
      { varNumber: 4, startOffset: 0x41, endOffset: 0x91, location: { kind: "other", type: 6 } },
      { varNumber: 5, startOffset: 0x42, endOffset: 0x92, location: { kind: "register-byref", register: 12 } },
    ]);
    // The bounds before them still decode.
    assert.deepEqual(contract.bounds(at, 0x9000), ENTRIES);
  });

  test("no vars chunk: none; damaged chunks: typed errors", () => {
    const plain = runtimeWith(blob(boundsChunk(ENTRIES, 16, 19), { varsSize: 0 }));
    assert.deepEqual(plain.contract.vars(plain.at), []);
    // An unknown location type.
    const unknown = varsChunk([{ varNumber: 1, start: 0, end: 4, loc: [...nibblesOf(11), ...nibblesOf(0)] }]);
    const u = runtimeWith(blob([], { fat: true, varsSize: unknown.length }).concat(unknown));
    assert.throws(() => u.contract.vars(u.at), (e: unknown) => e instanceof CorruptDataError && /unknown type 11/.test(e.message));
    // More variables than the chunk's bytes can hold.
    const lying = packNibbles([...nibblesOf(500), 0, 0, 0]);
    const l = runtimeWith(blob([], { fat: true, varsSize: lying.length }).concat(lying));
    assert.throws(() => l.contract.vars(l.at), (e: unknown) => e instanceof CorruptDataError && /claims 500 variables/.test(e.message));
  });
});
