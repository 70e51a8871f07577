// DWARF CFI on synthetic bytes: LEB128 and DW_EH_PE pointer decoding, CFA programs run to
// chosen pcs, DWARF expressions (including glibc's PLT CFA expression), and the unwinder over a
// hand-built process (code bytes, stack, .eh_frame/.eh_frame_hdr from test/support/cfi-writer).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CorruptDataError } from "../../src/errors.js";
import { cfiRowFor, EhFrameIndex, type CfiRow, type Cie, type Fde } from "../../src/native/cfi.js";
import { evaluateExpression, type ExpressionContext } from "../../src/native/dwarf-expression.js";
import { DwarfCursor, encodedSize } from "../../src/native/dwarf-reader.js";
import { DWARF_REG, emptyRegisters } from "../../src/native/registers.js";
import { Unwinder, type Backtrace } from "../../src/native/unwinder.js";
import {
  buildEhFrame, cfa, DW_EH_PE, mapEhFrame, op, sleb128, SparseMemory, TestCodeMap, u32le, u64le, uleb128,
  X86_64_CIE_INSTRUCTIONS,
} from "../support/cfi-writer.js";

const { rax, rdx, rbx, rbp, rsp, r12, r13, rip } = DWARF_REG;
const cursor = (bytes: ArrayLike<number>, address = 0) => new DwarfCursor(Uint8Array.from(bytes), address, "test");

describe("LEB128", () => {
  test("unsigned: canonical and padded forms", () => {
    assert.equal(cursor([0x00]).uleb(), 0);
    assert.equal(cursor([0x7f]).uleb(), 127);
    assert.equal(cursor([0x80, 0x01]).uleb(), 128);
    assert.equal(cursor([0xe5, 0x8e, 0x26]).uleb(), 624485); // DWARF spec example
    assert.equal(cursor([0x80, 0x80, 0x80, 0x00]).uleb(), 0); // redundant padding is legal
    assert.equal(cursor([0xff, 0x80, 0x00]).uleb(), 127);
  });

  test("signed: sign bit of the last byte", () => {
    assert.equal(cursor([0x02]).sleb(), 2);
    assert.equal(cursor([0x7e]).sleb(), -2);
    assert.equal(cursor([0x7f]).sleb(), -1);
    assert.equal(cursor([0x3f]).sleb(), 63);
    assert.equal(cursor([0x40]).sleb(), -64);
    assert.equal(cursor([0xc0, 0x00]).sleb(), 64);
    assert.equal(cursor([0x80, 0x7f]).sleb(), -128);
    assert.equal(cursor([0xc0, 0xbb, 0x78]).sleb(), -123456);
    assert.equal(cursor([0xff, 0x7f]).sleb(), -1); // padded -1
  });

  test("round trip of safe integers and cursor position", () => {
    for (const v of [0, 1, 63, 64, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      const c = cursor([...uleb128(v), 0xaa]);
      assert.equal(c.uleb(), v);
      assert.equal(c.u8(), 0xaa, `cursor after uleb ${v}`);
    }
    for (const v of [0, -1, 1, -64, 64, -65, 2 ** 31, -(2 ** 31), 2 ** 48, -(2 ** 48), 2 ** 53 - 1]) {
      const c = cursor([...sleb128(v), 0xaa]);
      assert.equal(c.sleb(), v);
      assert.equal(c.u8(), 0xaa, `cursor after sleb ${v}`);
    }
  });

  test("signed values near -2^53 decode exactly", () => {
    assert.equal(cursor(sleb128(-(2 ** 53) + 1)).sleb(), -(2 ** 53) + 1);
  });

  test("ten bytes is the limit; an eleventh continuation byte is corrupt", () => {
    const ten = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    assert.equal(cursor(ten).uleb(), 0);
    assert.throws(() => cursor([...Array(10).fill(0x80), 0x00]).uleb(), CorruptDataError);
    assert.throws(() => cursor([...Array(10).fill(0xff), 0x7f]).sleb(), CorruptDataError);
  });

  test("truncated numbers are corrupt, not zero", () => {
    assert.throws(() => cursor([0x80]).uleb(), CorruptDataError);
    assert.throws(() => cursor([]).sleb(), CorruptDataError);
    assert.throws(() => cursor([0x01, 0x02, 0x03]).u32(), CorruptDataError);
  });
});

describe("DW_EH_PE pointer encodings", () => {
  test("pcrel|sdata4 is relative to the field's own address", () => {
    const c = cursor([0xaa, ...u32le(-16 >>> 0)], 0x40_0000);
    c.u8();
    assert.equal(c.encoded(DW_EH_PE.pcrel | DW_EH_PE.sdata4), 0x40_0001 - 16);
    assert.equal(c.pos, 5);
  });

  test("datarel|sdata4 adds the data base (the .eh_frame_hdr address)", () => {
    assert.equal(cursor(u32le(0x100)).encoded(DW_EH_PE.datarel | DW_EH_PE.sdata4, 0x7000), 0x7100);
    assert.equal(cursor(u32le(-0x100 >>> 0)).encoded(DW_EH_PE.datarel | DW_EH_PE.sdata4, 0x7000), 0x6f00);
  });

  test("absolute forms: udata8, absptr, udata4, sdata4, udata2, sdata2, uleb128, sleb128", () => {
    assert.equal(cursor(u64le(0x7f12_3456_7890)).encoded(DW_EH_PE.udata8), 0x7f12_3456_7890);
    assert.equal(cursor(u64le(0x1234)).encoded(DW_EH_PE.absptr), 0x1234);
    assert.equal(cursor(u32le(0xffff_fff0)).encoded(DW_EH_PE.udata4), 0xffff_fff0);
    assert.equal(cursor(u32le(0xffff_fff0)).encoded(DW_EH_PE.sdata4), -16);
    assert.equal(cursor([0xfe, 0xff]).encoded(DW_EH_PE.udata2), 0xfffe);
    assert.equal(cursor([0xfe, 0xff]).encoded(DW_EH_PE.sdata2), -2);
    assert.equal(cursor(uleb128(300)).encoded(DW_EH_PE.uleb128), 300);
    assert.equal(cursor(sleb128(-300)).encoded(DW_EH_PE.sleb128), -300);
  });

  test("pcrel|udata8 and pcrel|sleb128", () => {
    assert.equal(cursor(u64le(0x10), 0x5000).encoded(DW_EH_PE.pcrel | DW_EH_PE.udata8), 0x5010);
    assert.equal(cursor(sleb128(-8), 0x5000).encoded(DW_EH_PE.pcrel | DW_EH_PE.sleb128), 0x4ff8);
  });

  test("omit reads nothing; indirect dereferences", () => {
    const c = cursor([1, 2, 3, 4]);
    assert.equal(c.encoded(DW_EH_PE.omit), 0);
    assert.equal(c.pos, 0);
    const seen: number[] = [];
    const v = cursor(u32le(0x20), 0x1000).encoded(DW_EH_PE.indirect | DW_EH_PE.pcrel | DW_EH_PE.sdata4, 0, (a) => {
      seen.push(a);
      return 0xdead;
    });
    assert.deepEqual(seen, [0x1020]);
    assert.equal(v, 0xdead);
    assert.throws(() => cursor(u32le(0)).encoded(DW_EH_PE.indirect | DW_EH_PE.udata4), CorruptDataError);
  });

  test("unknown value forms and applications are corrupt", () => {
    assert.throws(() => cursor(u64le(0)).encoded(0x05), CorruptDataError);
    assert.throws(() => cursor(u64le(0)).encoded(0x0d), CorruptDataError);
    assert.throws(() => cursor(u64le(0)).encoded(0x50 | DW_EH_PE.udata4), CorruptDataError); // aligned
    assert.throws(() => cursor([0x01]).encoded(DW_EH_PE.sdata4), CorruptDataError); // truncated
  });

  test("encodedSize", () => {
    assert.equal(encodedSize(DW_EH_PE.datarel | DW_EH_PE.sdata4), 4);
    assert.equal(encodedSize(DW_EH_PE.udata2), 2);
    assert.equal(encodedSize(DW_EH_PE.udata8), 8);
    assert.equal(encodedSize(DW_EH_PE.absptr), 8);
    assert.equal(encodedSize(DW_EH_PE.uleb128), 0);
  });
});

// ---- CFA programs through a written .eh_frame ----

const EH_FRAME = 0x30_0000;
const EH_HDR = 0x34_0000;

/** The typical gcc prologue FDE plus a tour of the other instructions, for f at 0x1000..0x1080. */
const tourFde = [
  ...cfa.advanceLoc(1), // 0x1001: after push %rbp
  ...cfa.defCfaOffset(16),
  ...cfa.offset(rbp, 2),
  ...cfa.advanceLoc(3), // 0x1004: after mov %rsp,%rbp
  ...cfa.defCfaRegister(rbp),
  ...cfa.advanceLoc1(0x20), // 0x1024: epilogue of an early return
  ...cfa.rememberState(),
  ...cfa.defCfa(rsp, 8),
  ...cfa.restore(rbp),
  ...cfa.advanceLoc(1), // 0x1025: back in the body
  ...cfa.restoreState(),
  ...cfa.advanceLoc2(0x10), // 0x1035
  ...cfa.valOffset(rbx, 3), // rbx = CFA - 24
  ...cfa.register(r12, r13), // r12 lives in r13
  ...cfa.offsetExtendedSf(r13, -4), // r13 at CFA + 32 (factored -4 * -8)
  ...cfa.gnuArgsSize(16),
  ...cfa.advanceLoc4(5), // 0x103a
  ...cfa.defCfaExpression([...op.breg(rsp, 8), ...op.breg(rip, 0), ...op.lit(15), op.and, ...op.lit(11), op.ge, ...op.lit(3), op.shl, op.plus]),
  ...cfa.undefined(rdx),
  ...cfa.sameValue(rax),
  ...cfa.advanceLoc(2), // 0x103c
  ...cfa.offset(rip, 3), // RA moved to CFA-24
  ...cfa.advanceLoc(1), // 0x103d
  ...cfa.restoreExtended(rip), // back to the CIE's rule: CFA-8
  ...cfa.gnuNegativeOffsetExtended(rbx, 2), // rbx at CFA + 16
];

function tourIndex() {
  const mem = new SparseMemory();
  const { index, built } = mapEhFrame(mem, {
    ehFrameAddress: EH_FRAME,
    hdrAddress: EH_HDR,
    cies: [
      {},
      { signalFrame: true, codeAlign: 4, dataAlign: -4, fdeEncoding: DW_EH_PE.udata8 },
    ],
    fdes: [
      { pcBegin: 0x1000, pcEnd: 0x1080, instructions: tourFde },
      // A second function through the second CIE (absolute udata8 pointers, code align 4).
      { cie: 1, pcBegin: 0x2000, pcEnd: 0x2040, instructions: [...cfa.advanceLoc(2), ...cfa.defCfaOffset(24), ...cfa.offset(rbx, 4)] },
      // Out of order in .eh_frame (the header table is sorted), with the 64-bit length escape.
      { pcBegin: 0x0800, pcEnd: 0x0810, instructions: [...cfa.defCfa(rbp, 16)], extendedLength: true },
    ],
  });
  return { mem, index, built };
}

function rowAt(index: EhFrameIndex, pc: number): CfiRow {
  const fde = index.findFde(pc);
  assert.ok(fde, `no FDE for 0x${pc.toString(16)}`);
  return cfiRowFor(fde, pc);
}

const rules = (row: CfiRow) => Object.fromEntries([...row.rules].sort((a, b) => a[0] - b[0]));

describe("EhFrameIndex and CFA programs", () => {
  test("the header indexes every FDE; findFde respects pc ranges", () => {
    const { index } = tourIndex();
    assert.equal(index.size, 3);
    for (const [pc, begin] of [[0x1000, 0x1000], [0x107f, 0x1000], [0x2000, 0x2000], [0x203f, 0x2000], [0x0808, 0x0800]] as const) {
      const fde = index.findFde(pc);
      assert.equal(fde?.pcBegin, begin, `pc 0x${pc.toString(16)}`);
    }
    for (const pc of [0, 0x07ff, 0x0810, 0x0fff, 0x1080, 0x1fff, 0x2040, 0xffff_ffff]) {
      assert.equal(index.findFde(pc), undefined, `pc 0x${pc.toString(16)} is in no FDE`);
    }
  });

  test("CIE fields: alignment factors, return column, 'S' augmentation", () => {
    const { index } = tourIndex();
    const a = index.findFde(0x1000)!.cie;
    assert.deepEqual([a.codeAlign, a.dataAlign, a.returnAddressRegister, a.signalFrame, a.fdeEncoding], [1, -8, 16, false, 0x1b]);
    const b = index.findFde(0x2000)!;
    assert.deepEqual([b.cie.codeAlign, b.cie.dataAlign, b.cie.signalFrame, b.cie.fdeEncoding], [4, -4, true, DW_EH_PE.udata8]);
    assert.equal(b.pcEnd, 0x2040);
    assert.equal(rowAt(index, 0x2000).signalFrame, true);
    assert.equal(rowAt(index, 0x1000).signalFrame, false);
  });

  test("prologue rows: entry, after push, after mov", () => {
    const { index } = tourIndex();
    for (const pc of [0x1000]) {
      const row = rowAt(index, pc);
      assert.deepEqual(row.cfa, { kind: "register", reg: rsp, offset: 8 });
      assert.deepEqual(rules(row), { [rip]: { kind: "offset", offset: -8 } });
      assert.equal(row.returnAddressRegister, rip);
    }
    for (const pc of [0x1001, 0x1003]) {
      const row = rowAt(index, pc);
      assert.deepEqual(row.cfa, { kind: "register", reg: rsp, offset: 16 }, `pc 0x${pc.toString(16)}`);
      assert.deepEqual(rules(row), { [rbp]: { kind: "offset", offset: -16 }, [rip]: { kind: "offset", offset: -8 } });
    }
    for (const pc of [0x1004, 0x1023]) {
      const row = rowAt(index, pc);
      assert.deepEqual(row.cfa, { kind: "register", reg: rbp, offset: 16 }, `pc 0x${pc.toString(16)}`);
      assert.deepEqual(rules(row), { [rbp]: { kind: "offset", offset: -16 }, [rip]: { kind: "offset", offset: -8 } });
    }
  });

  test("remember_state / restore / restore_state around an early return", () => {
    const { index } = tourIndex();
    const epilogue = rowAt(index, 0x1024);
    assert.deepEqual(epilogue.cfa, { kind: "register", reg: rsp, offset: 8 });
    assert.deepEqual(rules(epilogue), { [rip]: { kind: "offset", offset: -8 } }, "restore(rbp) returns to the CIE's (no) rule");
    for (const pc of [0x1025, 0x1034]) {
      const row = rowAt(index, pc);
      assert.deepEqual(row.cfa, { kind: "register", reg: rbp, offset: 16 }, `restore_state at 0x${pc.toString(16)}`);
      assert.deepEqual(rules(row), { [rbp]: { kind: "offset", offset: -16 }, [rip]: { kind: "offset", offset: -8 } });
    }
  });

  test("val_offset, register, offset_extended_sf", () => {
    const { index } = tourIndex();
    const row = rowAt(index, 0x1035);
    assert.deepEqual(row.cfa, { kind: "register", reg: rbp, offset: 16 });
    assert.deepEqual(rules(row), {
      [rbx]: { kind: "val_offset", offset: -24 },
      [rbp]: { kind: "offset", offset: -16 },
      [r12]: { kind: "register", reg: r13 },
      [r13]: { kind: "offset", offset: 32 },
      [rip]: { kind: "offset", offset: -8 },
    });
    assert.deepEqual(rules(rowAt(index, 0x1039)), rules(row));
  });

  test("def_cfa_expression (glibc PLT), undefined, same_value, restore_extended, GNU negative offset", () => {
    const { index } = tourIndex();
    const at = rowAt(index, 0x103a);
    assert.equal(at.cfa.kind, "expression");
    assert.equal(at.rules.get(rdx)?.kind, "undefined");
    assert.equal(at.rules.get(rax)?.kind, "same");
    assert.deepEqual(at.rules.get(rip), { kind: "offset", offset: -8 });
    assert.deepEqual(rowAt(index, 0x103c).rules.get(rip), { kind: "offset", offset: -24 });
    const last = rowAt(index, 0x107f);
    assert.deepEqual(last.rules.get(rip), { kind: "offset", offset: -8 }, "restore_extended(rip) -> CIE rule");
    assert.deepEqual(last.rules.get(rbx), { kind: "offset", offset: 16 });
    // The expression evaluates as glibc intends: CFA = rsp + 8, plus 8 once rip&15 >= 11.
    const expr = (last.cfa as { expr: Uint8Array }).expr;
    const regs = (ripValue: bigint): ExpressionContext => ({
      register: (r) => (r === rsp ? 0x7ff0_0000n : r === rip ? ripValue : undefined),
      readMemory: () => undefined,
    });
    assert.equal(evaluateExpression(expr, regs(0x4010_0aa0n + 10n)), 0x7ff0_0008n);
    assert.equal(evaluateExpression(expr, regs(0x4010_0aa0n + 11n)), 0x7ff0_0010n);
  });

  test("code alignment factor scales advance_loc; data alignment scales offsets", () => {
    const { index } = tourIndex();
    // advance_loc(2) * codeAlign 4 = 0x2008.
    assert.deepEqual(rowAt(index, 0x2007).cfa, { kind: "register", reg: rsp, offset: 8 });
    assert.deepEqual(rowAt(index, 0x2008).cfa, { kind: "register", reg: rsp, offset: 24 });
    assert.deepEqual(rowAt(index, 0x2008).rules.get(rbx), { kind: "offset", offset: -16 });
    assert.deepEqual(rowAt(index, 0x2007).rules.get(rip), { kind: "offset", offset: -4 }, "CIE offset(rip, 1) * dataAlign -4");
  });

  test("64-bit length records parse", () => {
    const { index } = tourIndex();
    assert.deepEqual(rowAt(index, 0x0808).cfa, { kind: "register", reg: rbp, offset: 16 });
  });

  test("set_loc, def_cfa_sf, def_cfa_offset_sf (direct FDE)", () => {
    const cie: Cie = {
      codeAlign: 1, dataAlign: -8, returnAddressRegister: 16, fdeEncoding: DW_EH_PE.udata8,
      hasAugmentationData: true, signalFrame: false, instructions: Uint8Array.from(X86_64_CIE_INSTRUCTIONS),
    };
    const fde: Fde = {
      cie, pcBegin: 0x5000, pcEnd: 0x5100,
      instructions: Uint8Array.from([...cfa.setLoc8(0x5010), ...cfa.defCfaSf(rbp, -2), ...cfa.setLoc8(0x5020), ...cfa.defCfaOffsetSf(-4)]),
    };
    assert.deepEqual(cfiRowFor(fde, 0x500f).cfa, { kind: "register", reg: rsp, offset: 8 });
    assert.deepEqual(cfiRowFor(fde, 0x5010).cfa, { kind: "register", reg: rbp, offset: 16 });
    assert.deepEqual(cfiRowFor(fde, 0x5020).cfa, { kind: "register", reg: rbp, offset: 32 });
  });

  test("damaged programs are corrupt data", () => {
    const cie: Cie = {
      codeAlign: 1, dataAlign: -8, returnAddressRegister: 16, fdeEncoding: 0x1b,
      hasAugmentationData: true, signalFrame: false, instructions: Uint8Array.from(X86_64_CIE_INSTRUCTIONS),
    };
    const fde = (instructions: number[]): Fde => ({ cie, pcBegin: 0, pcEnd: 0x100, instructions: Uint8Array.from(instructions) });
    assert.throws(() => cfiRowFor(fde([0x3f]), 0x10), CorruptDataError); // unknown opcode
    assert.throws(() => cfiRowFor(fde([0x0c, 0x07]), 0x10), CorruptDataError); // truncated def_cfa
    assert.throws(() => cfiRowFor(fde([...cfa.defCfaExpression([1, 2, 3]).slice(0, 3)]), 0x10), CorruptDataError);
    assert.throws(() => cfiRowFor(fde(Array(100).fill(0x0a)), 0x10), CorruptDataError); // remember_state too deep
    assert.deepEqual(cfiRowFor(fde([0x0b, 0x0b]), 0x10).cfa, { kind: "register", reg: rsp, offset: 8 }, "restore_state with nothing saved is ignored");
  });

  test("a header with no search table, or of another version, gives no index", () => {
    const mem = new SparseMemory();
    const built = buildEhFrame({ ehFrameAddress: EH_FRAME, hdrAddress: EH_HDR, cies: [{}], fdes: [{ pcBegin: 0x1000, pcEnd: 0x1010 }] });
    const noTable = Uint8Array.from(built.hdr);
    noTable[3] = DW_EH_PE.omit;
    mem.map(0x1_0000, noTable);
    assert.equal(EhFrameIndex.fromHeader(mem, 0x1_0000), undefined);
    const v2 = Uint8Array.from(built.hdr);
    v2[0] = 2;
    mem.map(0x2_0000, v2);
    assert.equal(EhFrameIndex.fromHeader(mem, 0x2_0000), undefined);
    assert.equal(EhFrameIndex.fromHeader(mem, 0x9_0000), undefined, "unmapped header");
  });
});

// ---- DWARF expressions ----

function ctx(regs: Record<number, bigint> = {}, memory: Record<string, bigint> = {}): ExpressionContext {
  return {
    register: (r) => regs[r],
    readMemory: (address, size) => {
      const v = memory[address.toString(16)];
      return v === undefined ? undefined : BigInt.asUintN(size * 8, v);
    },
  };
}
const ev = (bytes: ArrayLike<number>, c: ExpressionContext = ctx(), initial: bigint[] = []) =>
  evaluateExpression(Uint8Array.from(bytes), c, initial);
const M64 = (1n << 64n) - 1n;

describe("DWARF expressions", () => {
  test("glibc's PLT CFA expression: breg7 8; breg16 0; lit15; and; lit11; ge; lit3; shl; plus", () => {
    const plt = [0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22];
    const sp = 0x7ffd_1230n;
    for (let low = 0n; low < 16n; low++) {
      const expected = sp + 8n + (low >= 11n ? 8n : 0n);
      assert.equal(ev(plt, ctx({ [rsp]: sp, [rip]: 0x401020n + low })), expected, `rip & 15 = ${low}`);
    }
  });

  test("bra and skip choose branches; offsets count from after the operand", () => {
    // if (rax != 0) 100 else 200
    const program = [...op.breg(rax, 0), ...op.bra(5), ...op.const1u(200), ...op.skip(2), ...op.const1u(100)];
    assert.equal(ev(program, ctx({ [rax]: 7n })), 100n);
    assert.equal(ev(program, ctx({ [rax]: 0n })), 200n);
    // A backward skip that counts down: x = 3; while (x != 0) x--; push 42
    const loop = [...op.lit(3), op.dup, ...op.bra(3), ...op.skip(5), ...op.lit(1), op.minus, ...op.skip(-12), op.drop, ...op.const1u(42)];
    assert.equal(ev(loop), 42n);
  });

  test("an endless loop or a jump outside the expression is corrupt, not a hang", () => {
    assert.throws(() => ev(op.skip(-3)), CorruptDataError);
    assert.throws(() => ev([...op.lit(1), ...op.bra(-4)]), CorruptDataError);
    assert.throws(() => ev(op.skip(100)), CorruptDataError);
  });

  test("constants: sign extension and 64-bit wrap", () => {
    assert.equal(ev(op.const1s(-16)), M64 - 15n);
    assert.equal(ev(op.const1u(0xf0)), 0xf0n);
    assert.equal(ev(op.const2s(-2)), M64 - 1n);
    assert.equal(ev(op.const4u(0xffff_fff0)), 0xffff_fff0n);
    assert.equal(ev(op.const4s(0xffff_fff0)), M64 - 15n);
    assert.equal(ev(op.const8u(0xdead_beef_0123_4567n)), 0xdead_beef_0123_4567n);
    assert.equal(ev(op.addr(0x7f00_0000_1000)), 0x7f00_0000_1000n);
    assert.equal(ev(op.consts(-5)), M64 - 4n);
    assert.equal(ev(op.constu(1234567)), 1234567n);
    assert.equal(ev([...op.lit(0), ...op.lit(1), op.minus]), M64, "0 - 1 wraps");
    assert.equal(ev([...op.const8u(M64), ...op.lit(2), op.plus]), 1n, "wraps on overflow");
  });

  test("64-bit LEB128 constants are exact", () => {
    assert.equal(ev(op.constu(M64)), M64);
    assert.equal(ev(op.constu(0xffff_ffff_ffff_fff0n)), 0xffff_ffff_ffff_fff0n);
    assert.equal(ev(op.consts(-(2n ** 60n) - 1n)), BigInt.asUintN(64, -(2n ** 60n) - 1n));
  });

  test("stack operations", () => {
    assert.equal(ev([...op.lit(1), ...op.lit(2), op.over]), 1n);
    assert.equal(ev([...op.lit(1), ...op.lit(2), op.swap]), 1n);
    assert.equal(ev([...op.lit(1), ...op.lit(2), op.swap, op.drop]), 2n);
    assert.equal(ev([...op.lit(5), ...op.lit(6), ...op.lit(7), ...op.pick(2)]), 5n);
    // rot: [1 2 3] -> [3 1 2]
    const rot = [...op.lit(1), ...op.lit(2), ...op.lit(3), op.rot];
    assert.equal(ev(rot), 2n);
    assert.equal(ev([...rot, op.drop]), 1n);
    assert.equal(ev([...rot, op.drop, op.drop]), 3n);
    assert.equal(ev([...op.lit(9), op.dup, op.plus]), 18n);
    assert.equal(ev([op.nop]), undefined, "empty stack: no value");
  });

  test("arithmetic and logic", () => {
    assert.equal(ev([...op.const1s(-8), ...op.lit(2), op.div]), M64 - 3n, "signed division");
    assert.equal(ev([...op.lit(17), ...op.lit(5), op.mod]), 2n);
    assert.equal(ev([...op.lit(6), ...op.lit(7), op.mul]), 42n);
    assert.equal(ev([...op.lit(5), op.neg]), M64 - 4n);
    assert.equal(ev([...op.const1s(-5), op.abs]), 5n);
    assert.equal(ev([...op.lit(0), op.not]), M64);
    assert.equal(ev([...op.lit(12), ...op.lit(10), op.xor]), 6n);
    assert.equal(ev([...op.lit(12), ...op.lit(10), op.or]), 14n);
    assert.equal(ev([...op.const1s(-16), ...op.lit(4), op.shr]), (M64 - 15n) >> 4n, "logical shift");
    assert.equal(ev([...op.const1s(-16), ...op.lit(4), op.shra]), M64, "arithmetic shift");
    assert.equal(ev([...op.lit(10), ...op.plusUconst(0x1000)]), 0x100an);
    assert.equal(ev([...op.lit(1), ...op.lit(0), op.div]), undefined, "division by zero: no value");
    // Comparisons are signed: -1 < 0.
    assert.equal(ev([...op.const1s(-1), ...op.lit(0), op.lt]), 1n);
    assert.equal(ev([...op.const1s(-1), ...op.lit(0), op.gt]), 0n);
    assert.equal(ev([...op.lit(3), ...op.lit(3), op.eq]), 1n);
    assert.equal(ev([...op.lit(3), ...op.lit(3), op.ne]), 0n);
    assert.equal(ev([...op.lit(3), ...op.lit(4), op.le]), 1n);
  });

  test("registers, memory and the initial stack (CFA for DW_CFA_expression)", () => {
    const c = ctx({ [rbp]: 0x7000n, 20: 0x99n }, { "7008": 0x1122_3344_5566_7788n });
    assert.equal(ev([...op.breg(rbp, 8), op.deref], c), 0x1122_3344_5566_7788n);
    assert.equal(ev([...op.breg(rbp, 8), ...op.derefSize(4)], c), 0x5566_7788n);
    assert.equal(ev([...op.breg(rbp, 8), ...op.derefSize(1)], c), 0x88n);
    assert.equal(ev(op.reg(rbp), c), 0x7000n);
    assert.equal(ev(op.regx(20), c), 0x99n);
    assert.equal(ev(op.bregx(20, -1), c), 0x98n);
    assert.equal(ev(op.breg(rbp, -16), c), 0x6ff0n);
    assert.equal(ev(op.plusUconst(16), c, [0x7ff0_0000n]), 0x7ff0_0010n);
    // Missing inputs give "unknown", not a guess.
    assert.equal(ev(op.breg(rbx, 0), c), undefined);
    assert.equal(ev([...op.breg(rbp, 0), op.deref], c), undefined);
  });

  test("malformed expressions are corrupt data", () => {
    assert.throws(() => ev([op.plus]), CorruptDataError); // underflow
    assert.throws(() => ev([...op.lit(1), op.rot]), CorruptDataError);
    assert.throws(() => ev([op.over]), CorruptDataError);
    assert.throws(() => ev([...op.lit(1), ...op.pick(3)]), CorruptDataError);
    assert.throws(() => ev([0xe0]), CorruptDataError); // DW_OP_lo_user: unsupported
    assert.throws(() => ev([0x0c, 0x01]), CorruptDataError); // truncated const4u
    assert.throws(() => ev([...op.lit(0), ...op.derefSize(9)]), CorruptDataError);
  });
});

// ---- The unwinder over a synthetic process ----

const CODE = 0x10_000;
const CODE_SIZE = 0x10_000;
const STACK = 0x7000_0000;
const S0 = STACK + 0x100;
const TRAMPOLINE = 0x11800;
const SIGRETURN = [0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05];
const CALL_REL32 = [0xe8, 0x00, 0x00, 0x00, 0x00];

/** Code region full of int3 (so nothing looks like a call unless we write one). */
function baseProcess() {
  const mem = new SparseMemory();
  mem.map(CODE, new Uint8Array(CODE_SIZE).fill(0xcc));
  mem.map(STACK, 0x1000);
  return mem;
}

/** Write a 5-byte call so that `ra` is its return address. */
function callBefore(mem: SparseMemory, ra: number): void {
  mem.write(ra - 5, CALL_REL32);
}

function gregsAt(mem: SparseMemory, sp: number, values: { rip: number; rsp: number; rbp: number; rbx?: number }): void {
  const gregs = sp + 40;
  mem.writeU64(gregs + 16 * 8, values.rip);
  mem.writeU64(gregs + 15 * 8, values.rsp);
  mem.writeU64(gregs + 10 * 8, values.rbp);
  if (values.rbx !== undefined) mem.writeU64(gregs + 11 * 8, values.rbx);
}

function context(ip: number, sp: number, extra: Record<number, number> = {}) {
  const regs = emptyRegisters();
  regs[rip] = ip;
  regs[rsp] = sp;
  for (const [r, v] of Object.entries(extra)) regs[Number(r)] = v;
  return regs;
}

const summary = (bt: Backtrace) => bt.frames.map((f) => ({ ip: f.ip, sp: f.sp, trust: f.trust }));

describe("Unwinder on a synthetic process", () => {
  // A (CFI) <- B (CFI, rbp-based) <- C (no CFI: rbp chain) <- D (no CFI, no rbp: scan)
  //   <- E (CFI) <- signal trampoline <- G (interrupted by the signal; CFI says root)
  function buildProcess() {
    const mem = baseProcess();
    const fnA = 0x11000, fnB = 0x11100, fnE = 0x11400, fnG = 0x11a00;
    const { index } = mapEhFrame(mem, {
      ehFrameAddress: EH_FRAME,
      hdrAddress: EH_HDR,
      cies: [{}],
      fdes: [
        { pcBegin: fnA, pcEnd: fnA + 0x100, instructions: [...cfa.advanceLoc(1), ...cfa.defCfaOffset(16), ...cfa.offset(rbp, 2), ...cfa.advanceLoc(3), ...cfa.defCfaOffset(32), ...cfa.offset(rbx, 3)] },
        { pcBegin: fnB, pcEnd: fnB + 0x100, instructions: [...cfa.advanceLoc(1), ...cfa.defCfaOffset(16), ...cfa.offset(rbp, 2), ...cfa.advanceLoc(3), ...cfa.defCfaRegister(rbp)] },
        { pcBegin: fnE, pcEnd: fnE + 0x100, instructions: [...cfa.defCfaOffset(16)] },
        // Exact pc 0x11a20 is past the advance: RA undefined (root). At 0x11a1f (what a
        // return-address lookup would use) the CIE rule applies and would find another frame.
        { pcBegin: fnG, pcEnd: fnG + 0x100, instructions: [...cfa.advanceLoc(0x20), ...cfa.undefined(rip)] },
      ],
    });
    mem.write(TRAMPOLINE, SIGRETURN);

    const ra1 = 0x11140, ra2 = 0x11240, ra3 = 0x11340, ra4 = 0x11440, gIp = 0x11a20;
    callBefore(mem, ra1);
    callBefore(mem, ra2);
    callBefore(mem, ra4);
    callBefore(mem, 0x11540);
    // Frame A at S0: CFA = S0+32; rip at CFA-8, rbp at CFA-16, rbx at CFA-24.
    const rbpB = S0 + 0x40;
    mem.writeU64(S0 + 24, ra1);
    mem.writeU64(S0 + 16, rbpB);
    mem.writeU64(S0 + 8, 0xb0b);
    // Frame B (sp S0+32): CFA = rbpB+16; [rbpB] = C's rbp, [rbpB+8] = ra2.
    const rbpC = S0 + 0x60;
    mem.writeU64(rbpB, rbpC);
    mem.writeU64(rbpB + 8, ra2);
    // Frame C (sp rbpB+16): rbp chain -> D, whose rbp is 0 (no chain).
    mem.writeU64(rbpC, 0);
    mem.writeU64(rbpC + 8, ra3);
    // Frame D (sp rbpC+16): scanning skips a non-code word and a code word not after a call.
    const spD = rbpC + 16;
    mem.writeU64(spD, 0x5000); // not code
    mem.writeU64(spD + 8, 0x11350);
    mem.writeU64(spD + 16, ra4);
    // Frame E (sp spD+24): CFA = sp+16, RA = the trampoline.
    const spE = spD + 24;
    mem.writeU64(spE, 0xcccc);
    mem.writeU64(spE + 8, TRAMPOLINE);
    // Trampoline frame (sp spE+16): the kernel's ucontext restores G.
    const spT = spE + 16;
    const spG = S0 + 0x300, rbpG = S0 + 0x400;
    gregsAt(mem, spT, { rip: gIp, rsp: spG, rbp: rbpG, rbx: 0xbbb });
    mem.writeU64(spG, 0x11540); // only read if G's pc were looked up as a return address
    const code = new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE, cfi: index }]);
    return { mem, code, expected: { ra1, ra2, ra3, ra4, gIp, rbpB, rbpC, spD, spE, spT, spG, rbpG } };
  }

  test("context, CFI, frame pointer, scan and signal frames in one walk", () => {
    const { mem, code, expected: e } = buildProcess();
    const bt = new Unwinder(mem, code).unwind(context(0x11010, S0, { [rbp]: 0x5555, [rbx]: 0x1111 }));
    assert.deepEqual(summary(bt), [
      { ip: 0x11010, sp: S0, trust: "context" },
      { ip: e.ra1, sp: S0 + 32, trust: "cfi" },
      { ip: e.ra2, sp: e.rbpB + 16, trust: "cfi" },
      { ip: e.ra3, sp: e.rbpC + 16, trust: "frame_pointer" },
      { ip: e.ra4, sp: e.spE, trust: "scan" },
      { ip: TRAMPOLINE, sp: e.spT, trust: "cfi" },
      { ip: e.gIp, sp: e.spG, trust: "signal" },
    ]);
    assert.equal(bt.stop, "root");
    const f = bt.frames;
    assert.deepEqual(f.map((x) => x.signalTrampoline), [false, false, false, false, false, true, false]);
    assert.deepEqual(f.map((x) => x.exact), [true, false, false, false, false, false, true]);
    // Registers recovered on the way.
    assert.equal(f[1]!.registers[rbp], e.rbpB);
    assert.equal(f[1]!.registers[rbx], 0xb0b);
    assert.equal(f[2]!.registers[rbp], e.rbpC);
    assert.equal(f[2]!.registers[rbx], 0xb0b, "callee-saved rbx carries over");
    assert.equal(f[3]!.registers[rbp], 0);
    assert.equal(f[6]!.registers[rbp], e.rbpG);
    assert.equal(f[6]!.registers[rbx], 0xbbb);
  });

  test("frame limit", () => {
    const { mem, code } = buildProcess();
    const bt = new Unwinder(mem, code).unwind(context(0x11010, S0), { maxFrames: 3 });
    assert.equal(bt.frames.length, 3);
    assert.equal(bt.stop, "frame-limit");
  });

  test("a scan limited to too few words finds nothing", () => {
    const { mem, code } = buildProcess();
    const bt = new Unwinder(mem, code).unwind(context(0x11010, S0), { scanWords: 2 });
    assert.deepEqual(bt.frames.map((f) => f.trust), ["context", "cfi", "cfi", "frame_pointer"]);
    assert.equal(bt.stop, "invalid-ip");
  });

  test("CFA from glibc's PLT expression", () => {
    const mem = baseProcess();
    const plt = 0x12000;
    const expr = [...op.breg(rsp, 8), ...op.breg(rip, 0), ...op.lit(15), op.and, ...op.lit(11), op.ge, ...op.lit(3), op.shl, op.plus];
    const { index } = mapEhFrame(mem, {
      ehFrameAddress: EH_FRAME, hdrAddress: EH_HDR, cies: [{}],
      fdes: [{ pcBegin: plt, pcEnd: plt + 0x100, instructions: cfa.defCfaExpression(expr) }],
    });
    const code = new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE, cfi: index }]);
    callBefore(mem, 0x13040);
    callBefore(mem, 0x13080);
    mem.writeU64(S0, 0x13040); // RA when the CFA is rsp+8
    mem.writeU64(S0 + 8, 0x13080); // RA when the CFA is rsp+16 (after the push in the PLT stub)
    const u = new Unwinder(mem, code);
    const early = u.unwind(context(plt + 0x26, S0)); // 0x26 & 15 = 6
    assert.deepEqual(summary(early).slice(0, 2), [{ ip: plt + 0x26, sp: S0, trust: "context" }, { ip: 0x13040, sp: S0 + 8, trust: "cfi" }]);
    const late = u.unwind(context(plt + 0x2b, S0)); // 0x2b & 15 = 11
    assert.deepEqual(summary(late).slice(0, 2), [{ ip: plt + 0x2b, sp: S0, trust: "context" }, { ip: 0x13080, sp: S0 + 16, trust: "cfi" }]);
  });

  test("a ucontext that restores the same frame stops as a loop", () => {
    const mem = baseProcess();
    mem.write(TRAMPOLINE, SIGRETURN);
    gregsAt(mem, S0, { rip: TRAMPOLINE, rsp: S0, rbp: 0 });
    const bt = new Unwinder(mem, new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE }])).unwind(context(TRAMPOLINE, S0));
    assert.equal(bt.stop, "loop");
    assert.equal(bt.frames.length, 2);
    assert.deepEqual(bt.frames.map((f) => f.trust), ["context", "signal"]);
  });

  test("CFI that does not move the stack up is rejected; the walk falls back and stops cleanly", () => {
    const mem = baseProcess();
    const fn = 0x11000;
    const { index } = mapEhFrame(mem, {
      ehFrameAddress: EH_FRAME, hdrAddress: EH_HDR, cies: [{}],
      // CFA = rsp - 16, RA at CFA+16 = [rsp]: a "caller" below the current frame.
      fdes: [{ pcBegin: fn, pcEnd: fn + 0x100, instructions: [...cfa.defCfaSf(rsp, 2), ...cfa.offsetExtendedSf(rip, -2)] }],
    });
    callBefore(mem, 0x11540);
    mem.writeU64(S0, 0x11540);
    const code = new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE, cfi: index }]);
    const bt = new Unwinder(mem, code).unwind(context(fn + 0x10, S0, { [rbp]: 0 }));
    // Not { sp: S0 - 16, trust: "cfi" }: the scan finds the same return address above sp.
    assert.deepEqual(summary(bt), [{ ip: fn + 0x10, sp: S0, trust: "context" }, { ip: 0x11540, sp: S0 + 8, trust: "scan" }]);
    assert.equal(bt.stop, "invalid-ip"); // 0x11540 has no CFI, no frame pointer, nothing to scan
    const noScan = new Unwinder(mem, code).unwind(context(fn + 0x10, S0, { [rbp]: 0 }), { scanWords: 0 });
    assert.equal(noScan.frames.length, 1);
    assert.equal(noScan.stop, "no-progress");
  });

  test("return address 0 or an undefined RA column ends the walk at the root", () => {
    const mem = baseProcess();
    const fn = 0x11000;
    const { index } = mapEhFrame(mem, { ehFrameAddress: EH_FRAME, hdrAddress: EH_HDR, cies: [{}], fdes: [{ pcBegin: fn, pcEnd: fn + 0x100 }] });
    mem.writeU64(S0, 0);
    const bt = new Unwinder(mem, new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE, cfi: index }])).unwind(context(fn + 0x10, S0));
    assert.equal(bt.stop, "root");
    assert.equal(bt.frames.length, 1);
  });

  test("a stack pointer outside memory stops as unreadable or invalid, never throws", () => {
    const mem = baseProcess();
    const bt = new Unwinder(mem, new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE }])).unwind(context(0x11000, NaN));
    assert.equal(bt.frames.length, 1);
    assert.equal(bt.stop, "unreadable");
    const bt2 = new Unwinder(mem, new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE }])).unwind(context(0x11000, 0x9000_0000));
    assert.equal(bt2.frames.length, 1);
    assert.ok(bt2.stop === "unreadable" || bt2.stop === "invalid-ip", bt2.stop);
  });
});

describe("followsCall and signal trampolines", () => {
  const RA = 0x11100;
  function callAt(bytes: number[]): boolean {
    const mem = baseProcess();
    mem.write(RA - bytes.length, bytes);
    return new Unwinder(mem, new TestCodeMap([{ start: CODE, end: CODE + CODE_SIZE }])).followsCall(RA);
  }

  const calls: [string, number[]][] = [
    ["call rel32", [0xe8, 0x10, 0x20, 0x00, 0x00]],
    ["call *%rax", [0xff, 0xd0]],
    ["call *%r11", [0x41, 0xff, 0xd3]],
    ["call *disp32(%rip)", [0xff, 0x15, 0x10, 0x20, 0x30, 0x00]],
    ["call *8(%rbp)", [0xff, 0x55, 0x08]],
    ["call *8(%rsp)", [0xff, 0x54, 0x24, 0x08]],
    ["call *(%rax)", [0xff, 0x10]],
    ["call *0x100(%rbx)", [0xff, 0x93, 0x00, 0x01, 0x00, 0x00]],
  ];
  for (const [name, bytes] of calls) {
    test(`true after ${name}`, () => assert.equal(callAt(bytes), true));
  }

  const notCalls: [string, number[]][] = [
    ["int3 padding", []],
    ["mov %rsp,%rbp; sub $16,%rsp", [0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10]],
    ["jmp *%rax", [0xff, 0xe0]],
    ["jmp *disp32(%rip)", [0xff, 0x25, 0x10, 0x20, 0x30, 0x00]],
    ["push 8(%rbp)", [0xff, 0x75, 0x08]],
    ["nops", [0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90]],
    ["e8 not 5 bytes back", [0xe8, 0x00, 0x00, 0x00]],
    ["random bytes", [0x3a, 0x91, 0x07, 0xc4, 0x5d, 0x12, 0x6b]],
  ];
  for (const [name, bytes] of notCalls) {
    test(`false after ${name}`, () => assert.equal(callAt(bytes), false));
  }

  test("false when the bytes before the address are not readable", () => {
    const mem = baseProcess();
    assert.equal(new Unwinder(mem, new TestCodeMap([])).followsCall(CODE + 3), false);
  });

  test("signal trampoline recognised by its exact bytes only", () => {
    const mem = baseProcess();
    mem.write(TRAMPOLINE, SIGRETURN);
    mem.write(TRAMPOLINE + 0x40, [...SIGRETURN.slice(0, 8), 0x04]); // one byte off
    const u = new Unwinder(mem, new TestCodeMap([]));
    assert.equal(u.isSignalTrampoline(TRAMPOLINE), true);
    assert.equal(u.isSignalTrampoline(TRAMPOLINE + 1), false);
    assert.equal(u.isSignalTrampoline(TRAMPOLINE + 0x40), false);
    assert.equal(u.isSignalTrampoline(NaN), false);
    assert.equal(u.isSignalTrampoline(CODE + CODE_SIZE - 4), false, "runs past mapped memory");
  });
});
