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

describe("ExecutionManager contract, ReadyToRun images", () => {
  /** HashMap geometry unlike the runtime's 4 slots per bucket. */
  const SLOTS = 3;
  const BUCKETS = 7;
  const VALUE_MASK = 0x7fff_ffff_ffff_ffffn; // the top bit of a bucket's first value marks a collision
  const R2R = { first: 0x100, funclet: 0x180, second: 0x200 };
  const MD_R2R = { first: 0x5a5a_0de5_1000, second: 0x5a5a_0de5_2000 };

  function readyToRunRuntime() {
    const rt = new SyntheticRuntime();
    rt.type("RangeSectionMap", ["TopLevelData:inline:2048"], { start: 0x18 });
    rt.type("RangeSectionFragment", ["RangeBegin", "RangeEndOpen", "RangeSection", "Next"]);
    rt.type("RangeSection", ["RangeBegin", "RangeEndOpen", "NextForDelete", "JitManager", "Flags:u32", "HeapList", "R2RModule"]);
    rt.type("RuntimeFunction", ["BeginAddress:u32", "EndAddress:u32", "UnwindData:u32"]);
    rt.type("Bucket", [`Values:inline:${SLOTS * 8}`, `Keys:inline:${SLOTS * 8}`], { start: 0x8 });
    rt.type("HashMap", ["Buckets"]);
    rt.type("ReadyToRunInfo", ["EntryPointToMethodDescMap:HashMap", "NumRuntimeFunctions:u32", "RuntimeFunctions"]);
    rt.type("Module", ["ReadyToRunInfo"], { start: 0x99 });
    rt.global("HashMapSlotsPerBucket", SLOTS, "uint32");
    rt.global("HashMapValueMask", VALUE_MASK, "uint64");
    rt.global("StubCodeBlockLast", 0xf, "uint8");
    rt.contract("ExecutionManager", 2);

    const image = rt.memory.alloc(0x1000, 0x1000);
    const functions = [R2R.first, R2R.funclet, R2R.second];
    const table = rt.memory.alloc(functions.length * rt.size("RuntimeFunction"), 8);
    functions.forEach((begin, i) => rt.fill(table + i * rt.size("RuntimeFunction"), "RuntimeFunction", { BeginAddress: begin, EndAddress: (functions[i + 1] ?? 0x280), UnwindData: 0x800 + i }));
    // EntryPointToMethodDescMap: element 0 of the bucket array holds the count; values are stored halved.
    const buckets = rt.memory.alloc(rt.size("Bucket") * (BUCKETS + 1), 8);
    rt.memory.u64(buckets, BUCKETS);
    const put = (key: number, md: number) => {
      let seed = Math.floor(key / 4) % 2 ** 32;
      const step = 1 + ((Math.floor(key / 32) % 2 ** 32) + 1) % (BUCKETS - 1);
      for (;;) {
        const bucket = buckets + rt.size("Bucket") * (1 + (seed % BUCKETS));
        const keys = rt.at(bucket, "Bucket", "Keys");
        for (let s = 0; s < SLOTS; s++) {
          if (rt.memory.tryReadPointer(keys + s * 8) === 0) {
            rt.memory.u64(keys + s * 8, key);
            rt.memory.u64(rt.at(bucket, "Bucket", "Values") + s * 8, md / 2);
            return;
          }
        }
        seed = (seed + step) % 2 ** 32;
      }
    };
    put(image + R2R.first, MD_R2R.first);
    put(image + R2R.second, MD_R2R.second);
    const info = rt.alloc("ReadyToRunInfo");
    rt.fill(info, "ReadyToRunInfo", { NumRuntimeFunctions: functions.length, RuntimeFunctions: table });
    rt.set(rt.at(info, "ReadyToRunInfo", "EntryPointToMethodDescMap"), "HashMap", "Buckets", buckets);
    const module = rt.fill(rt.alloc("Module"), "Module", { ReadyToRunInfo: info });
    const section = rt.fill(rt.alloc("RangeSection"), "RangeSection", { RangeBegin: image, RangeEndOpen: image + 0x1000, R2RModule: module });
    const fragment = rt.fill(rt.alloc("RangeSectionFragment"), "RangeSectionFragment", { RangeBegin: image, RangeEndOpen: image + 0x1000, RangeSection: section });
    const map = rt.alloc("RangeSectionMap");
    let level = rt.at(map, "RangeSectionMap", "TopLevelData");
    for (let l = 5; l >= 1; l--) {
      const next = l === 1 ? fragment : rt.memory.alloc(256 * 8, 8);
      rt.memory.u64(level + (Math.floor(image / 2 ** (17 + (l - 1) * 8)) % 256) * 8, next);
      level = next;
    }
    rt.indirectGlobal("ExecutionManagerCodeRangeMapAddress", map);
    return { rt, image, info, table, module };
  }

  test("a method's code found by binary search of the image's RUNTIME_FUNCTIONs and named through EntryPointToMethodDescMap; a funclet's owner found by stepping back", () => {
    const { rt, image, table } = readyToRunRuntime();
    const em = new ExecutionManager(rt.target());
    const { value, warnings } = warningsOf(() => [em.codeBlock(image + 0x150), em.codeBlock(image + 0x190), em.codeBlock(image + 0x210), em.codeBlock(image + 0x50)]);
    assert.deepEqual(warnings, []);
    const [first, funclet, second, before] = value!;
    assert.deepEqual(first, { start: image + R2R.first, methodDesc: MD_R2R.first, offset: 0x50, size: undefined, kind: "readytorun", rangeSection: first!.rangeSection, unwindBase: image, runtimeFunction: table });
    assert.equal(funclet?.methodDesc, MD_R2R.first);
    assert.equal(funclet?.start, image + R2R.first);
    assert.equal(funclet?.runtimeFunction, table + rt.size("RuntimeFunction"), "the funclet's own RUNTIME_FUNCTION, for unwinding");
    assert.equal(second?.methodDesc, MD_R2R.second);
    assert.equal(before, undefined, "before the image's first method");
    assert.deepEqual(em.unwindInfo(image + 0x190), { start: image + R2R.funclet, unwindInfo: image + 0x801, imageBase: image });
  });

  test("an image section whose module has no ReadyToRunInfo, or lists no runtime functions: a warning, no method", () => {
    for (const damage of ["no info", "no functions"] as const) {
      const { rt, image, info, module } = readyToRunRuntime();
      if (damage === "no info") rt.set(module, "Module", "ReadyToRunInfo", 0);
      else rt.set(info, "ReadyToRunInfo", "NumRuntimeFunctions", 0);
      const { value, warnings } = warningsOf(() => new ExecutionManager(rt.target()).codeBlock(image + 0x150));
      assert.equal(value, undefined, damage);
      assert.ok(warnings.some((w) => /code map .* is damaged/.test(w)), `${damage}: ${warnings.join("\n")}`);
    }
  });
});
