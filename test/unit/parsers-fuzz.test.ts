// Bounded property tests for the dump parsers: damaged input must end in a typed ClrscopeError
// (which the CLI turns into a one-line message and a documented exit code), never in a
// RangeError/TypeError from deep inside a parser, and never in a hang.
//
// test/support/fuzz-harness.ts runs each property in its own worker thread with a watchdog, so a
// parser that loops forever fails its test instead of stalling `npm test`. Runs are deterministic
// (fixed seeds); a failure prints fast-check's counterexample and the seed/path to replay it (a
// hang prints the last input).
//
// HOOK for later parsers (CFI, ELF images, ...): add an entry to PROPERTIES below, usually
//   "my parser: random bytes": () => fuzzBytes(SEED + n, (b) => parseMyThing(b)),
// or a custom fc.assert whose predicate wraps the call in expectOnlyTypedErrors(). Nothing
// else needs to change: every entry becomes a test.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { AddressSpace } from "../../src/dump/address-space.js";
import { BufferByteSource, FileByteSource } from "../../src/dump/byte-source.js";
import { readCoreFile, type CoreFile } from "../../src/dump/elf-core.js";
import { ELF_HEADER_SIZE, PHDR_SIZE, parseElfHeader, parseNotes, parseProgramHeaders } from "../../src/dump/elf-format.js";
import { parseAuxv, parseFpRegs, parseNtFile, parsePrPsInfo, parsePrStatus, parseSigInfo } from "../../src/dump/notes.js";
import { MemoryNotInDump } from "../../src/errors.js";
import { auxv, ntFile, pattern, prpsinfo, prstatus, sampleCoreSpec, siginfo, writeCoreWithLayout, type CoreSpec, type WrittenCore } from "../support/elf-writer.js";
import { expectOnlyTypedErrors, FUZZ_RUNS, fuzzBytes, fuzzSeed, fuzzSuite, mutated, noteInput, size32, writeLE } from "../support/fuzz-harness.js";

const SEED = fuzzSeed(0x5eed_c0de);

/**
 * Properties still failing because of a known bug in src/ (name -> the bug). They run and report
 * as TODO, so `npm test` stays green; delete the entry once the fix lands.
 */
const KNOWN_BUGS: Record<string, string> = {};

// ---- inputs --------------------------------------------------------------------------------

/** Valid synthetic cores to start from: kernel layout, PN_XNUM, gdb layout (notes last). */
function baseCores(): WrittenCore[] {
  return [
    writeCoreWithLayout(sampleCoreSpec({ segmentAlign: 8 })),
    writeCoreWithLayout({ ...sampleCoreSpec({ segmentAlign: 8 }), pnXnum: true }),
    writeCoreWithLayout({ ...sampleCoreSpec({ segmentAlign: 8 }), notesLast: true }),
  ];
}

/** Offsets of every header, program-header and note-header field, where damage matters most. */
function fieldOffsets(c: WrittenCore): number[] {
  const out = [4, 5, 16, 18, 32, 40, 54, 56, 58, 60];
  for (let i = 0; i < c.layout.phnum; i++) for (let f = 0; f < PHDR_SIZE; f += 8) out.push(c.layout.phoff + i * PHDR_SIZE + f, c.layout.phoff + i * PHDR_SIZE + f + 4);
  for (const n of c.layout.notes) out.push(n.offset, n.offset + 4, n.offset + 8, n.descOffset, n.descOffset + 8, n.descOffset + 16);
  if (c.layout.shoff !== undefined) out.push(c.layout.shoff + 44, c.layout.shoff + 32);
  return out;
}

function parseCore(bytes: Uint8Array): CoreFile {
  noteInput(bytes);
  return readCoreFile(new BufferByteSource(bytes, "fuzz.core"));
}

/** Random reads on a parsed core: tryRead never throws, read throws only MemoryNotInDump. */
function exerciseMemory(core: CoreFile, probes: { base: number; delta: number; length: number }[]): void {
  const mem = new AddressSpace(core.source, core.segments);
  const anchors = core.segments.flatMap((s) => [s.start, s.end, s.start + s.available]);
  for (const p of probes) {
    const address = anchors.length > 0 && p.base < anchors.length ? anchors[p.base]! + p.delta : p.delta;
    const got = expectOnlyTypedErrors(() => mem.tryRead(address, p.length), []);
    assert.ok(got === undefined || got.length === p.length, `tryRead(${address}, ${p.length}) returned ${got?.length} bytes`);
    expectOnlyTypedErrors(() => mem.read(address, p.length), [MemoryNotInDump]);
    const ptr = expectOnlyTypedErrors(() => mem.tryReadPointer(address), []);
    assert.ok(Number.isNaN(ptr) || Number.isSafeInteger(ptr), `tryReadPointer gave ${ptr}`);
    expectOnlyTypedErrors(() => mem.readU64(address), [MemoryNotInDump]);
    expectOnlyTypedErrors(() => mem.origin(address), []);
  }
}

const probe = fc.record({
  base: fc.nat({ max: 40 }),
  delta: fc.oneof(fc.integer({ min: -24, max: 24 }), fc.integer({ min: -0x1000, max: 0x1000 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.constant(Number.MAX_SAFE_INTEGER - 3)),
  length: fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 0x10000 })),
});

/**
 * Memory contents whose 8-byte windows are mostly below 2^53 (three bytes in four are 0), so a
 * pointer read that wrongly takes a byte from outside the dump gives a number, not NaN.
 */
function sparse(n: number, seed: number): Uint8Array {
  const values = pattern(n, seed);
  const keep = pattern(n, seed + 1000);
  return values.map((v, i) => ((keep[i]! & 3) === 0 ? v : 0));
}

/**
 * Property: reads at random addresses near segment edges (and `extraAnchors`) return exactly the
 * bytes `spec` put there, or fail when any byte is not in the dump; pointers agree with the bytes.
 */
function checkReadsAgainstModel(mem: AddressSpace, spec: CoreSpec, extraAnchors: number[], seed: number): void {
  const segs = spec.segments!.map((s) => {
    const b = s.bytes ?? new Uint8Array(0);
    return { start: Number(s.vaddr), bytes: b.subarray(0, Math.min(b.length, s.filesz ?? b.length)) };
  });
  /** What the dump holds at `a`, or undefined. */
  const model = (a: number): number | undefined => {
    for (const s of segs) if (a >= s.start && a < s.start + s.bytes.length) return s.bytes[a - s.start];
    return undefined;
  };
  const anchors = [...segs.flatMap((s) => [s.start, s.start + s.bytes.length]), ...extraAnchors];
  // Mostly just before an edge, where an 8-byte read straddles it.
  const deltas = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: -9, max: 0 }) }, { weight: 1, arbitrary: fc.integer({ min: -64, max: 64 }) });
  const lengths = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 0x400 }));
  fc.assert(
    fc.property(fc.constantFrom(...anchors), deltas, lengths, (anchor, delta, length) => {
      const address = anchor + delta;
      const want: number[] = [];
      for (let i = 0; i < Math.max(length, 8); i++) {
        const b = model(address + i);
        if (b === undefined) break;
        want.push(b);
      }
      const got = mem.tryRead(address, length);
      if (want.length >= length) assert.deepEqual(got, new Uint8Array(want.slice(0, length)), `tryRead(0x${address.toString(16)}, ${length})`);
      else {
        assert.equal(got, undefined, `tryRead(0x${address.toString(16)}, ${length}) must fail: byte ${want.length} is not in the dump`);
        assert.throws(() => mem.read(address, length), MemoryNotInDump);
      }
      const ptr = mem.tryReadPointer(address);
      if (want.length >= 8) {
        const value = new DataView(new Uint8Array(want.slice(0, 8)).buffer).getBigUint64(0, true);
        assert.equal(mem.readU64(address), value, `readU64(0x${address.toString(16)})`);
        if (value < 2n ** 53n) assert.equal(ptr, Number(value), `tryReadPointer(0x${address.toString(16)})`);
        else assert.ok(Number.isNaN(ptr), `tryReadPointer(0x${address.toString(16)}) of ${value} must be NaN`);
      } else {
        assert.ok(Number.isNaN(ptr), `tryReadPointer(0x${address.toString(16)}) must be NaN: only ${want.length} bytes in the dump`);
      }
    }),
    { numRuns: FUZZ_RUNS, seed },
  );
}

// ---- the properties ------------------------------------------------------------------------

export const PROPERTIES: Record<string, () => void> = {
  "readCoreFile: byte and field mutations of valid cores": () => {
    const cores = baseCores();
    const hot = [...new Set(cores.flatMap(fieldOffsets))];
    fc.assert(
      fc.property(mutated(cores.map((c) => c.bytes), hot), (bytes) => {
        expectOnlyTypedErrors(() => parseCore(bytes));
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 1 },
    );
  },

  "readCoreFile: truncations of valid cores": () => {
    const cores = baseCores();
    fc.assert(
      fc.property(fc.constantFrom(...cores), fc.nat(), (c, n) => {
        const cut = c.bytes.subarray(0, n % (c.bytes.length + 1));
        const core = expectOnlyTypedErrors(() => parseCore(cut));
        // Cut past the notes and headers: it must still open, with one warning iff memory was lost.
        const notesEnd = c.layout.notesOffset + c.layout.notesSize;
        const needed = Math.max(notesEnd, c.layout.phoff + c.layout.phnum * PHDR_SIZE, c.layout.shoff === undefined ? 0 : c.layout.shoff + 64);
        if (cut.length >= needed) {
          assert.ok(core, `a core cut at ${cut.length} (notes end at ${notesEnd}) must open`);
          const lost = c.layout.segmentOffsets.some((o, i) => o + c.layout.segmentFileSizes[i]! > cut.length);
          assert.equal(core.warnings.length, lost ? 1 : 0, `warnings for a cut at ${cut.length}: ${JSON.stringify(core.warnings)}`);
          if (lost) assert.match(core.warnings[0]!, /truncated/);
        }
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 2 },
    );
  },

  "readCoreFile: random bytes behind a valid ELF identification": () => {
    const ident = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (rest, withIdent) => {
        const bytes = new Uint8Array((withIdent ? ident.length : 0) + rest.length);
        if (withIdent) bytes.set(ident);
        bytes.set(rest, withIdent ? ident.length : 0);
        if (withIdent && bytes.length >= 20) bytes.set([4, 0, 62, 0], 16); // ET_CORE, EM_X86_64
        expectOnlyTypedErrors(() => parseCore(bytes));
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 3 },
    );
  },

  "parseElfHeader + parseProgramHeaders: random and mutated headers": () => {
    const cores = baseCores();
    const parse = (bytes: Uint8Array) => {
      const src = new BufferByteSource(bytes, "fuzz.elf");
      const h = parseElfHeader("fuzz.elf", src.read(0, ELF_HEADER_SIZE), (o, l) => src.read(o, l));
      if (h.phnum * PHDR_SIZE <= 1 << 20) parseProgramHeaders("fuzz.elf", h, src.read(h.phoff, h.phnum * PHDR_SIZE));
    };
    fuzzBytes(SEED + 4, parse, cores.map((c) => c.bytes.subarray(0, c.layout.phoff + c.layout.phnum * PHDR_SIZE)));
  },

  "parseNotes: random bytes and mutated note segments": () => {
    const cores = baseCores();
    const segments = cores.map((c) => c.bytes.subarray(c.layout.notesOffset, c.layout.notesOffset + c.layout.notesSize));
    const hotOffsets = cores[0]!.layout.notes.flatMap((n) => [n.offset - cores[0]!.layout.notesOffset, n.offset - cores[0]!.layout.notesOffset + 4]);
    // Short runs of note headers with arbitrary (often wrapping) sizes and a little payload.
    const records = fc
      .array(fc.tuple(size32, size32, fc.uint8Array({ maxLength: 24 })), { minLength: 1, maxLength: 4 })
      .map((rs) => {
        const parts = rs.map(([namesz, descsz, body]) => {
          const b = new Uint8Array(12 + body.length);
          writeLE(b, 0, 4, namesz);
          writeLE(b, 4, 4, descsz);
          writeLE(b, 8, 4, 1n);
          b.set(body, 12);
          return b;
        });
        return Uint8Array.from(parts.flatMap((p) => [...p]));
      });
    fuzzBytes(SEED + 5, (b) => parseNotes("fuzz notes", b), segments, { maxLength: 4096, hotOffsets, extra: records });
  },

  "parseNtFile: random bytes and mutated NT_FILE notes": () => {
    const valid = ntFile([
      { start: 0x400000, end: 0x401000, pageOffset: 0, path: "/usr/bin/x" },
      { start: 0x401000, end: 0x403000, pageOffset: 1, path: "/usr/bin/x" },
      { start: 0x7f00_0000_0000, end: 0x7f00_0002_0000, pageOffset: 0x1c3, path: "/lib/libc.so.6" },
    ]);
    fuzzBytes(SEED + 6, (b) => parseNtFile(b), [valid]);
  },

  "parseAuxv: random bytes and mutated vectors": () => {
    fuzzBytes(SEED + 7, (b) => parseAuxv(b), [auxv([[3, 0x400040], [5, 9], [16, 0xffff_ffff_ffff_ffffn], [33, 0x7fff_f7fc_1000]])]);
  },

  "parsePrStatus: random bytes and mutated prstatus": () => {
    fuzzBytes(SEED + 8, (b) => parsePrStatus(b), [prstatus({ tid: 77, signal: 11, registers: { rip: 0x401000, rsp: 0xffff_ffff_ffff_fff0n } })], { maxLength: 512 });
  },

  "parsePrPsInfo, parseSigInfo, parseFpRegs: random bytes": () => {
    const seeds = [prpsinfo({ pid: 1, fname: "x", args: "x y" }), siginfo({ signo: 11, code: 1, address: 0xffff_ffff_ffff_0000n }), siginfo({ signo: 15, code: 0, senderPid: 3 })];
    fuzzBytes(SEED + 9, (b) => {
      expectOnlyTypedErrors(() => parsePrPsInfo(b));
      expectOnlyTypedErrors(() => parseSigInfo(b));
      expectOnlyTypedErrors(() => parseFpRegs(b));
    }, seeds, { maxLength: 1024 });
  },

  "AddressSpace over a buffer: random reads match a model of the segments": () => {
    const spec = sampleCoreSpec({ segmentAlign: 8 });
    spec.segments = spec.segments!.map((s, i) => ({ ...s, bytes: sparse(s.bytes!.length, 30 + i) }));
    const core = parseCore(writeCoreWithLayout(spec).bytes);
    checkReadsAgainstModel(new AddressSpace(core.source, core.segments), spec, [], SEED + 10);
  },

  "AddressSpace over a file: reads across 64 KiB cache blocks match the model": () => {
    // Segments larger than FileByteSource's 64 KiB blocks, at offsets that straddle them.
    const spec: CoreSpec = {
      threads: [{ tid: 1 }],
      segments: [
        { vaddr: 0x10_0000, bytes: sparse(0x1_2345, 21) },
        { vaddr: 0x10_0000 + 0x1_2345, bytes: sparse(0x2_1003, 22) }, // adjacent, odd sizes
        { vaddr: 0x80_0000, bytes: sparse(0x1_0000, 23), memsz: 0x3_0000 }, // filesz < memsz, data follows in the file
        { vaddr: 0x90_0000, bytes: sparse(0x100, 24) },
      ],
      segmentAlign: 8,
    };
    const written = writeCoreWithLayout(spec);
    const dir = mkdtempSync(join(tmpdir(), "clrscope-fuzz-"));
    const path = join(dir, "blocks.core");
    writeFileSync(path, written.bytes);
    const source = new FileByteSource(path, 2); // two cached blocks: evictions happen
    try {
      const core = readCoreFile(source);
      // Virtual addresses whose file offset is a multiple of 64 KiB (a block boundary).
      const boundaries: number[] = [];
      spec.segments!.forEach((s, i) => {
        const off = written.layout.segmentOffsets[i]!;
        for (let k = Math.ceil(off / 0x1_0000); k * 0x1_0000 < off + written.layout.segmentFileSizes[i]!; k++) boundaries.push(Number(s.vaddr) + k * 0x1_0000 - off);
      });
      assert.ok(boundaries.length >= 3);
      checkReadsAgainstModel(new AddressSpace(source, core.segments), spec, boundaries, SEED + 12);
    } finally {
      source.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },

  "AddressSpace: random reads on mutated cores throw only MemoryNotInDump": () => {
    const cores = baseCores();
    const hot = [...new Set(cores.flatMap(fieldOffsets))];
    fc.assert(
      fc.property(mutated(cores.map((c) => c.bytes), hot), fc.array(probe, { minLength: 1, maxLength: 8 }), (bytes, probes) => {
        const core = expectOnlyTypedErrors(() => parseCore(bytes));
        if (core) exerciseMemory(core, probes);
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 11 },
    );
  },
};

fuzzSuite("parsers never throw untyped errors or hang (fast-check)", import.meta.url, PROPERTIES, { knownBugs: KNOWN_BUGS });
