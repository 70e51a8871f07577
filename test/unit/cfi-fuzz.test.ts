// Bounded property tests for the CFI parsers: random and mutated CFA programs, DWARF expressions,
// .eh_frame/.eh_frame_hdr bytes must end in a typed ClrscopeError or a result, never in a
// RangeError/TypeError and never in a hang; the unwinder must never throw at all on them.
//
// As in parsers-fuzz.test.ts, test/support/fuzz-harness.ts runs each property in a worker thread
// under a watchdog, so a loop fails its test instead of stalling `npm test`. Runs are
// deterministic (fixed seeds).
import assert from "node:assert/strict";
import fc from "fast-check";
import { cfiRowFor, EhFrameIndex, type Cie, type Fde } from "../../src/native/cfi.js";
import { evaluateExpression, type ExpressionContext } from "../../src/native/dwarf-expression.js";
import { DwarfCursor } from "../../src/native/dwarf-reader.js";
import { DWARF_REG, emptyRegisters } from "../../src/native/registers.js";
import { Unwinder } from "../../src/native/unwinder.js";
import { buildEhFrame, cfa, DW_EH_PE, op, SparseMemory, TestCodeMap, X86_64_CIE_INSTRUCTIONS, type EhFrameSpec } from "../support/cfi-writer.js";
import { expectOnlyTypedErrors, FUZZ_RUNS, fuzzSeed, fuzzSuite, SLOW_CALL_MS } from "../support/fuzz-harness.js";

const SEED = fuzzSeed(0xcf1_f022);

/** Properties failing because of a known bug in src/ (name -> the bug); they report as TODO. */
const KNOWN_BUGS: Record<string, string> = {};

// ---- inputs ----

const POINTER_ENCODINGS = [
  DW_EH_PE.pcrel | DW_EH_PE.sdata4, DW_EH_PE.udata4, DW_EH_PE.udata8, DW_EH_PE.absptr, DW_EH_PE.sdata2,
  DW_EH_PE.uleb128, DW_EH_PE.sleb128, DW_EH_PE.datarel | DW_EH_PE.sdata4, 0x05, 0x50 | DW_EH_PE.udata4, DW_EH_PE.omit,
];

const cieArb: fc.Arbitrary<Cie> = fc.record({
  codeAlign: fc.oneof(fc.constantFrom(1, 4), fc.nat({ max: 2 ** 40 })),
  dataAlign: fc.oneof(fc.constantFrom(-8, -4, 1), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
  returnAddressRegister: fc.oneof(fc.constant(16), fc.nat({ max: 300 })),
  fdeEncoding: fc.constantFrom(...POINTER_ENCODINGS),
  hasAugmentationData: fc.boolean(),
  signalFrame: fc.boolean(),
  instructions: fc.oneof(fc.constant(Uint8Array.from(X86_64_CIE_INSTRUCTIONS)), fc.uint8Array({ maxLength: 64 })),
});

/** Valid instructions with random operands: programs that get deep before they break. */
const cfaInstruction: fc.Arbitrary<number[]> = fc.oneof(
  fc.nat({ max: 0x1_0000 }).map((d) => cfa.advanceLoc(d)),
  fc.tuple(fc.nat({ max: 63 }), fc.nat({ max: 1 << 20 })).map(([r, o]) => cfa.offset(r, o)),
  fc.tuple(fc.nat({ max: 1 << 20 }), fc.nat({ max: 1 << 20 })).map(([r, o]) => cfa.defCfa(r, o)),
  fc.nat({ max: 63 }).map((r) => cfa.restore(r)),
  fc.nat({ max: 1 << 16 }).map((r) => cfa.restoreExtended(r)),
  fc.constant(cfa.rememberState()),
  fc.constant(cfa.restoreState()),
  fc.tuple(fc.nat({ max: 40 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 })).map(([r, o]) => cfa.offsetExtendedSf(r, o)),
  fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 })).map(([r, f]) => cfa.register(r, f)),
  fc.uint8Array({ maxLength: 24 }).map((e) => cfa.defCfaExpression(e)),
  fc.tuple(fc.nat({ max: 40 }), fc.uint8Array({ maxLength: 24 })).map(([r, e]) => cfa.expression(r, e)),
  fc.tuple(fc.nat({ max: 40 }), fc.uint8Array({ maxLength: 24 })).map(([r, e]) => cfa.valExpression(r, e)),
  fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => Array.from(b)), // raw noise
);
const cfaProgram = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.array(cfaInstruction, { maxLength: 40 }).map((is) => Uint8Array.from(is.flat())),
);

/** Mostly short backward jumps: the ones that make loops. */
const jumpOffset = fc.oneof(fc.integer({ min: -12, max: 3 }), fc.integer({ min: -40, max: 40 }), fc.integer({ min: -0x8000, max: 0x7fff }));
const exprOp: fc.Arbitrary<number[]> = fc.oneof(
  fc.nat({ max: 31 }).map((n) => op.lit(n)),
  fc.tuple(fc.nat({ max: 16 }), fc.integer({ min: -64, max: 64 })).map(([r, o]) => op.breg(r, o)),
  jumpOffset.map((o) => op.bra(o)),
  jumpOffset.map((o) => op.skip(o)),
  fc.constantFrom(op.dup, op.drop, op.over, op.swap, op.rot, op.plus, op.minus, op.and, op.shl, op.ge, op.deref, op.div, op.mod, op.neg).map((b) => [b]),
  fc.nat({ max: 255 }).map((i) => op.pick(i)),
  fc.nat({ max: 10 }).map((n) => op.derefSize(n)),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => op.constu(v)),
  fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => Array.from(b)),
);
const expression = fc.oneof(fc.uint8Array({ maxLength: 128 }), fc.array(exprOp, { maxLength: 30 }).map((os) => Uint8Array.from(os.flat())));

function exprContext(regs: bigint[], memoryPresent: boolean): ExpressionContext {
  return {
    register: (r) => regs[r],
    readMemory: (address, size) => (memoryPresent ? BigInt.asUintN(size * 8, address * 0x9e37_79b9n) : undefined),
  };
}

const SPEC: EhFrameSpec = {
  ehFrameAddress: 0x30_0000,
  hdrAddress: 0x34_0000,
  cies: [{}, { signalFrame: true, codeAlign: 4, fdeEncoding: DW_EH_PE.udata8 }],
  fdes: [
    { pcBegin: 0x1_1000, pcEnd: 0x1_1100, instructions: [...cfa.advanceLoc(1), ...cfa.defCfaOffset(16), ...cfa.offset(6, 2), ...cfa.advanceLoc(3), ...cfa.defCfaRegister(6)] },
    { pcBegin: 0x1_1100, pcEnd: 0x1_1200, cie: 1, instructions: [...cfa.rememberState(), ...cfa.advanceLoc(2), ...cfa.defCfaExpression([...op.breg(7, 8), ...op.breg(16, 0), ...op.lit(15), op.and, ...op.lit(11), op.ge, ...op.lit(3), op.shl, op.plus]), ...cfa.restoreState()] },
    { pcBegin: 0x1_1400, pcEnd: 0x1_1500, instructions: [...cfa.defCfaOffset(32), ...cfa.offset(3, 3), ...cfa.valOffset(12, 2)], extendedLength: true },
  ],
};

type Mutation = { at: number; value: number; width: 1 | 4 };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat({ max: 4096 }),
  value: fc.oneof(fc.nat({ max: 255 }), fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.nat({ max: 0xffff_ffff }), fc.constantFrom(0xffff_ffff, 0x8000_0000, 0x7fff_ffff)),
  width: fc.constantFrom(1 as const, 4 as const),
});
function mutate(bytes: Uint8Array, ms: Mutation[], truncate?: number): Uint8Array {
  const out = bytes.slice(0, truncate === undefined ? bytes.length : truncate % (bytes.length + 1));
  for (const m of ms) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.width === 1) out[at] = m.value & 0xff;
    else for (let i = 0; i < 4 && at + i < out.length; i++) out[at + i] = (m.value >>> (8 * i)) & 0xff;
  }
  return out;
}

/** A synthetic process whose CFI (and possibly header) are mutated. */
const damagedCfi = fc.record({
  frameMutations: fc.array(mutation, { maxLength: 6 }),
  hdrMutations: fc.array(mutation, { maxLength: 3 }),
  frameCut: fc.option(fc.nat(), { nil: undefined }),
  hdrCut: fc.option(fc.nat(), { nil: undefined }),
  randomFrame: fc.option(fc.uint8Array({ maxLength: 512 }), { nil: undefined, freq: 4 }),
});

function damagedMemory(d: { frameMutations: Mutation[]; hdrMutations: Mutation[]; frameCut?: number; hdrCut?: number; randomFrame?: Uint8Array }): SparseMemory {
  const built = buildEhFrame(SPEC);
  const mem = new SparseMemory();
  mem.map(SPEC.ehFrameAddress, d.randomFrame ?? mutate(built.ehFrame, d.frameMutations, d.frameCut));
  const hdr = mutate(built.hdr, d.hdrMutations, d.hdrCut);
  if (hdr.length > 0) mem.map(SPEC.hdrAddress, hdr);
  return mem;
}

const PCS = [0x1_1000, 0x1_1001, 0x1_1004, 0x1_10ff, 0x1_1100, 0x1_1108, 0x1_1450, 0x1_1300, 0, 0x34_0000];

// ---- the properties ----

const PROPERTIES: Record<string, () => void> = {
  "cfiRowFor: random and semi-valid CFA programs": () => {
    fc.assert(
      fc.property(cieArb, cfaProgram, fc.nat({ max: 0x2_0000 }), (cie, program, pcOffset) => {
        const fde: Fde = { cie, pcBegin: 0x1000, pcEnd: 0x1000 + 0x2_0000, instructions: program };
        const row = expectOnlyTypedErrors(() => cfiRowFor(fde, 0x1000 + pcOffset));
        if (row) {
          assert.ok(row.cfa.kind === "register" || row.cfa.kind === "expression");
          assert.ok(row.rules instanceof Map);
        }
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 1 },
    );
  },

  "evaluateExpression: random and semi-valid expressions": () => {
    fc.assert(
      fc.property(
        expression,
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 17 }),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 3 }),
        fc.boolean(),
        (expr, regs, initial, memoryPresent) => {
          const v = expectOnlyTypedErrors(() => evaluateExpression(expr, exprContext(regs, memoryPresent), initial));
          if (v !== undefined) assert.ok(v >= 0n && v < 1n << 64n, `result ${v} is not a 64-bit value`);
        },
      ),
      { numRuns: FUZZ_RUNS, seed: SEED + 2 },
    );
  },

  "DwarfCursor: LEB128 and pointer encodings on random bytes": () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.nat({ max: 255 }), fc.nat({ max: 2 ** 47 }), (bytes, encoding, address) => {
        expectOnlyTypedErrors(() => new DwarfCursor(bytes, address, "fuzz").uleb());
        expectOnlyTypedErrors(() => new DwarfCursor(bytes, address, "fuzz").sleb());
        expectOnlyTypedErrors(() => new DwarfCursor(bytes, address, "fuzz").cstring());
        expectOnlyTypedErrors(() => new DwarfCursor(bytes, address, "fuzz").encoded(encoding, 0x1000, () => 0x2000));
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 3 },
    );
  },

  "EhFrameIndex: mutated and random .eh_frame / .eh_frame_hdr": () => {
    fc.assert(
      fc.property(damagedCfi, (d) => {
        const mem = damagedMemory(d);
        const index = expectOnlyTypedErrors(() => EhFrameIndex.fromHeader(mem, SPEC.hdrAddress));
        if (!index) return;
        for (const pc of PCS) {
          const fde = expectOnlyTypedErrors(() => index.findFde(pc));
          if (fde) {
            assert.ok(pc >= fde.pcBegin && pc < fde.pcEnd, `findFde(0x${pc.toString(16)}) returned [0x${fde.pcBegin.toString(16)}, 0x${fde.pcEnd.toString(16)})`);
            expectOnlyTypedErrors(() => cfiRowFor(fde, pc));
          }
        }
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 4 },
    );
  },

  "EhFrameIndex: random header bytes": () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 256 }), (hdr, frame) => {
        const mem = new SparseMemory();
        if (hdr.length > 0) mem.map(0x34_0000, [1, ...hdr]); // version 1, so the rest is parsed
        if (frame.length > 0) mem.map(0x30_0000, frame);
        const index = expectOnlyTypedErrors(() => EhFrameIndex.fromHeader(mem, 0x34_0000));
        if (index) for (const pc of PCS) expectOnlyTypedErrors(() => index.findFde(pc));
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 5 },
    );
  },

  "Unwinder: damaged CFI and random stacks never throw; callers move up the stack": () => {
    const STACK = 0x7000_0000;
    fc.assert(
      fc.property(damagedCfi, fc.uint8Array({ minLength: 0, maxLength: 1024 }), fc.constantFrom(...PCS), fc.nat({ max: 512 }), fc.option(fc.nat({ max: 1024 })), (d, stack, pc, spOffset, rbpOffset) => {
        const mem = damagedMemory(d);
        const code = mem.map(0x1_0000, 0x1_0000);
        code.fill(0xcc);
        // Sprinkle calls and a sigreturn trampoline so scanning and signal frames get exercised.
        code.set([0xe8, 0, 0, 0, 0], 0x1000 + 0x40 - 5);
        code.set([0xff, 0xd0], 0x1400 + 0x40 - 2);
        code.set([0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05], 0x1800);
        if (stack.length > 0) mem.map(STACK, stack);
        let index: EhFrameIndex | undefined;
        try {
          index = EhFrameIndex.fromHeader(mem, SPEC.hdrAddress);
        } catch {
          index = undefined;
        }
        const codeMap = new TestCodeMap([{ start: 0x1_0000, end: 0x2_0000, cfi: index }]);
        const regs = emptyRegisters();
        regs[DWARF_REG.rip] = pc;
        regs[DWARF_REG.rsp] = STACK + spOffset;
        regs[DWARF_REG.rbp] = rbpOffset === null ? NaN : STACK + rbpOffset;
        const t0 = performance.now();
        const bt = new Unwinder(mem, codeMap).unwind(regs, { maxFrames: 64 });
        assert.ok(performance.now() - t0 < SLOW_CALL_MS, "unwind too slow");
        assert.ok(bt.frames.length >= 1 && bt.frames.length <= 64);
        for (let i = 1; i < bt.frames.length; i++) {
          const f = bt.frames[i]!;
          if (f.trust !== "signal") assert.ok(f.sp > bt.frames[i - 1]!.sp, `frame ${i} (${f.trust}) does not move up the stack`);
        }
      }),
      { numRuns: FUZZ_RUNS, seed: SEED + 6 },
    );
  },
};

fuzzSuite("CFI parsers never throw untyped errors or hang (fast-check)", import.meta.url, PROPERTIES, { knownBugs: KNOWN_BUGS });
