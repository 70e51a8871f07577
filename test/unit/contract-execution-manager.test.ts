// The ExecutionManager contract on a synthetic runtime with layouts unlike any real one: code
// address -> range section map (5 levels) -> fragment -> code heap -> nibble map (version 1's
// linear scan and version 2's relative pointers) -> code header (MethodDesc, RUNTIME_FUNCTIONs);
// stubs are no method; a damaged map is a warning and no answer, never a wrong method.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExecutionManager } from "../../src/runtime/contracts/execution-manager.js";
import { SyntheticRuntime, warningsOf } from "../support/descriptor-writer.js";

const CODEHEAP = 0x2;
/** Code offsets from the heap's start (all 4-byte aligned, as the nibble map requires). */
const A = { start: 0x48, end: 0x148, funcletEnd: 0x160 }; // two RUNTIME_FUNCTIONs: body and a funclet
const B = { start: 0x1a4, end: 0x1f0 };
const C = { start: 0x204, end: 0x400 }; // covers map unit 3 (0x300-0x3ff) entirely
const STUB = { start: 0x488 };
const MD = { A: 0x5a5a_0de5_0a00, B: 0x5a5a_0de5_0b00, C: 0x5a5a_0de5_0c00 };

/** Nibble-map units for method starts (v2 also encodes units a method covers as relative pointers). */
function nibbleMap(starts: number[], version: number, covering: { start: number; unit: number }[]): Uint32Array {
  const units = new Uint32Array(0x1000 / 256);
  for (const s of starts) {
    const bucket = Math.floor(s / 32);
    units[Math.floor(bucket / 8)]! |= (1 + (s % 32) / 4) << (28 - 4 * (bucket % 8));
  }
  if (version >= 2) for (const c of covering) units[c.unit] = (c.start - (c.start % 16)) + 9 + (c.start % 16) / 4;
  return units;
}

function codeRuntime(version: number) {
  const rt = new SyntheticRuntime();
  rt.type("RangeSectionMap", ["TopLevelData:inline:2048"], { start: 0x18 });
  rt.type("RangeSectionFragment", ["RangeBegin", "RangeEndOpen", "RangeSection", "Next"]);
  rt.type("RangeSection", ["RangeBegin", "RangeEndOpen", "NextForDelete", "JitManager", "Flags:u32", "HeapList", "R2RModule"]);
  rt.type("CodeHeapListNode", ["Next", "StartAddress", "EndAddress", "MapBase", "HeaderMap"]);
  rt.type("RuntimeFunction", ["BeginAddress:u32", "EndAddress:u32", "UnwindData:u32"]);
  rt.type("RealCodeHeader", ["MethodDesc", "DebugInfo", "GCInfo", "NumUnwindInfos:u32", "UnwindInfos:inline:8"]);
  rt.global("StubCodeBlockLast", 0xf, "uint8");
  rt.contract("ExecutionManager", version);

  const code = rt.memory.alloc(0x1000, 0x1000);
  const ip = (offset: number) => code + offset;
  const header = (md: number, functions: [number, number][]) => {
    const h = rt.alloc("RealCodeHeader", functions.length * rt.size("RuntimeFunction"));
    rt.fill(h, "RealCodeHeader", { MethodDesc: md, NumUnwindInfos: functions.length });
    functions.forEach(([b, e], i) => rt.fill(rt.at(h, "RealCodeHeader", "UnwindInfos") + i * rt.size("RuntimeFunction"), "RuntimeFunction", { BeginAddress: b, EndAddress: e, UnwindData: 0x9000 + i }));
    return h;
  };
  rt.memory.u64(ip(A.start) - 8, header(MD.A, [[A.start, A.end], [A.end, A.funcletEnd]]));
  rt.memory.u64(ip(B.start) - 8, header(MD.B, [[B.start, B.end]]));
  rt.memory.u64(ip(C.start) - 8, header(MD.C, [[C.start, C.end]]));
  rt.memory.u64(ip(STUB.start) - 8, 0x3); // a stub block's code header "pointer" is its kind
  const units = nibbleMap([A.start, B.start, C.start, STUB.start], version, [{ start: C.start, unit: 3 }]);
  const headerMap = rt.memory.alloc(units.length * 4, 8);
  units.forEach((u, i) => rt.memory.u32(headerMap + i * 4, u));
  const heap = rt.fill(rt.alloc("CodeHeapListNode"), "CodeHeapListNode", { MapBase: code, HeaderMap: headerMap, StartAddress: code, EndAddress: code + 0x1000 });
  const section = rt.fill(rt.alloc("RangeSection"), "RangeSection", { RangeBegin: code, RangeEndOpen: code + 0x1000, Flags: CODEHEAP, HeapList: heap });
  const fragment = rt.fill(rt.alloc("RangeSectionFragment"), "RangeSectionFragment", { RangeBegin: code, RangeEndOpen: code + 0x1000, RangeSection: section });
  // The map: 5 levels of 256 entries over address bits 56..17; bit 0 of an entry tags collectible code.
  const map = rt.alloc("RangeSectionMap");
  let level = rt.at(map, "RangeSectionMap", "TopLevelData");
  for (let l = 5; l >= 1; l--) {
    const index = Math.floor(code / 2 ** (17 + (l - 1) * 8)) % 256;
    const next = l === 1 ? fragment : rt.memory.alloc(256 * 8, 8);
    rt.memory.u64(level + index * 8, next + (l === 3 ? 1 : 0));
    level = next;
  }
  rt.indirectGlobal("ExecutionManagerCodeRangeMapAddress", map);
  return { rt, ip, section, fragment, map, heap, code };
}

for (const version of [1, 2]) {
  describe(`ExecutionManager contract, version ${version}`, () => {
    test("an address inside a JIT'd method: its start, MethodDesc, offset and extent (body and funclet); unwind data from the covering RUNTIME_FUNCTION", () => {
      const { rt, ip, section, code } = codeRuntime(version);
      const em = new ExecutionManager(rt.target());
      const { value, warnings } = warningsOf(() => em.codeBlock(ip(0x120)));
      assert.deepEqual(warnings, []);
      assert.equal(value!.start, ip(A.start));
      assert.equal(value!.methodDesc, MD.A);
      assert.equal(value!.offset, 0x120 - A.start);
      assert.equal(value!.size, A.funcletEnd - A.start);
      assert.equal(value!.kind, "jit");
      assert.equal(value!.rangeSection, section);
      assert.equal(value!.unwindBase, code);
      assert.deepEqual(em.unwindInfo(ip(0x150)), { start: ip(A.end), unwindInfo: code + 0x9001, imageBase: code }, "the funclet's own RUNTIME_FUNCTION");
      assert.equal(em.codeBlock(ip(A.start))?.methodDesc, MD.A, "a method's first byte");
      assert.equal(em.codeBlock(ip(B.start + 4))?.methodDesc, MD.B);
      assert.equal(em.codeBlock(ip(0x350))?.start, ip(C.start), "an address in a map unit the method covers entirely");
    });

    test("stubs, addresses before the first method and addresses outside every range section are no managed code", () => {
      const { rt, ip, code } = codeRuntime(version);
      const em = new ExecutionManager(rt.target());
      const { value, warnings } = warningsOf(() => [em.codeBlock(ip(STUB.start + 8)), em.codeBlock(ip(0x10)), em.codeBlock(code + 0x10_0000), em.codeBlock(0x1000)]);
      assert.deepEqual(value, [undefined, undefined, undefined, undefined]);
      assert.deepEqual(warnings, []);
    });
  });
}

describe("ExecutionManager contract, damaged code map", () => {
  test("a fragment with an empty range, a section that disagrees with its fragment, or one being deleted: a warning and no method", () => {
    for (const damage of ["empty", "disagree", "deleted"] as const) {
      const { rt, ip, fragment, section } = codeRuntime(2);
      if (damage === "empty") rt.set(fragment, "RangeSectionFragment", "RangeEndOpen", ip(0));
      if (damage === "disagree") rt.set(section, "RangeSection", "RangeBegin", ip(0x10));
      if (damage === "deleted") rt.set(section, "RangeSection", "NextForDelete", section);
      const em = new ExecutionManager(rt.target());
      const { value, warnings } = warningsOf(() => em.codeBlock(ip(0x120)));
      assert.equal(value, undefined, damage);
      assert.ok(warnings.some((w) => /code map .* is damaged/.test(w)), `${damage}: ${warnings.join("\n")}`);
      // Cached answers warn again when a later command uses them.
      assert.ok(warningsOf(() => em.codeBlock(ip(0x120))).warnings.length > 0, damage);
    }
  });

  test("a code heap whose code starts above the address, or an empty range section map: a warning, no method", () => {
    const above = codeRuntime(1);
    above.rt.set(above.heap, "CodeHeapListNode", "MapBase", above.ip(0x800));
    assert.ok(warningsOf(() => new ExecutionManager(above.rt.target()).codeBlock(above.ip(0x120))).warnings.some((w) => /damaged/.test(w)));

    const empty = codeRuntime(1);
    empty.rt.memory.write(empty.rt.at(empty.map, "RangeSectionMap", "TopLevelData"), new Uint8Array(2048));
    const { value, warnings } = warningsOf(() => new ExecutionManager(empty.rt.target()).codeBlock(empty.ip(0x120)));
    assert.equal(value, undefined);
    assert.ok(warnings.some((w) => /range section map is empty/.test(w)), warnings.join("\n"));
  });
});
