// The RuntimeTypeSystem contract on a synthetic runtime with layouts, alignment and token split
// unlike any real one: MethodDesc tokens from chunk and remainder bits, MethodTable flags
// (strings, arrays, generic instantiations, the free object), MethodDesc chunks with optional
// slots, vtable and non-virtual slots, type handle shapes; and damaged data (a parent cycle, a
// chunk the dump lacks) that must end, not hang.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RuntimeTypeNames, RuntimeTypeSystem, RuntimeTypeSystemDetails } from "../../src/runtime/contracts/runtime-type-system.js";
import { SyntheticRuntime } from "../support/descriptor-writer.js";

/** MethodDesc alignment and token remainder bits: not .NET's 8 and 12. */
const ALIGN = 24;
const REMAINDER_BITS = 10;
/** MethodDesc.Flags classification and optional-slot bits (MethodDescFlags). */
const MDF = { fcall: 1, instantiated: 5, dynamic: 7, nonVtableSlot: 0x8, methodImpl: 0x10, nativeCodeSlot: 0x20, static: 0x80 };
/** MTFlags bits (WFLAGS_HIGH) and MTFlags2. */
const MTF = { hasComponentSize: 0x80000000, array: 0x00080000, szArray: 0x00020000, interface: 0x000c0000, containsGCPointers: 0x01000000, collectible: 0x00200000, genericInstantiation: 0x10 };

function typeSystemRuntime() {
  const rt = new SyntheticRuntime();
  rt.type("MethodTable", ["MTFlags:u32", "BaseSize:u32", "MTFlags2:u32", "EEClassOrCanonMT", "Module", "ParentMethodTable", "NumInterfaces:u16", "NumVirtuals:u16", "PerInstInfo", "AuxiliaryData"], { start: 0x21 });
  rt.type("EEClass", ["MethodTable", "MethodDescChunk", "NumMethods:u16", "NumNonVirtualSlots:u16", "InternalCorElementType:u8"]);
  rt.type("MethodTableAuxiliaryData", ["OffsetToNonVirtualSlots:u16"]);
  rt.type("MethodDescChunk", ["MethodTable", "Next", "Size:u8", "Count:u8", "FlagsAndTokenRange:u16"]);
  rt.type("MethodDesc", ["ChunkIndex:u8", "Slot:u16", "Flags:u16", "Flags3AndTokenRemainder:u16"], { size: 3 * ALIGN });
  for (const [name, size] of [["FCallMethodDesc", 4], ["PInvokeMethodDesc", 5], ["EEImplMethodDesc", 5], ["ArrayMethodDesc", 6], ["InstantiatedMethodDesc", 5], ["CLRToCOMCallMethodDesc", 6], ["DynamicMethodDesc", 7]] as const) {
    rt.type(name, [], { size: size * ALIGN });
  }
  rt.type("NonVtableSlot", [], { size: 8 });
  rt.type("MethodImpl", [], { size: 16 });
  rt.type("NativeCodeSlot", [], { size: 8 });
  rt.type("GenericsDictInfo", ["NumTypeArgs:u16", "NumDicts:u16"], { start: 0, size: 8 });
  rt.type("TypeDesc", ["TypeAndFlags:u32"]);
  // Derived runtime types continue their base's layout: their fields lie past the base's.
  rt.type("ParamTypeDesc", ["TypeArg"], { start: rt.size("TypeDesc") });
  rt.type("TypeVarTypeDesc", ["Module", "Token:u32"], { start: rt.size("TypeDesc") + 0x10 });
  rt.type("ArrayClass", ["Rank:u8"], { start: rt.size("EEClass") });
  rt.global("MethodDescAlignment", ALIGN, "uint64");
  rt.global("MethodDescTokenRemainderBitCount", REMAINDER_BITS, "uint8");
  rt.contract("RuntimeTypeSystem", 1);
  return rt;
}

/** A canonical MethodTable with its EEClass (and the EEClass pointing back). */
function methodTable(rt: SyntheticRuntime, o: { flags?: number; flags2?: number; baseSize?: number; module?: number; parent?: number; numVirtuals?: number; numNonVirtual?: number; vtableSlots?: number }) {
  const mt = rt.alloc("MethodTable", 8 * Math.ceil((o.vtableSlots ?? 0) / 8) + 8, 8);
  const ee = rt.alloc("EEClass");
  rt.fill(mt, "MethodTable", {
    MTFlags: o.flags ?? 0, MTFlags2: o.flags2 ?? 0, BaseSize: o.baseSize ?? 0x18, EEClassOrCanonMT: ee, Module: o.module ?? 0x5a5a_0bad_0000,
    ParentMethodTable: o.parent ?? 0, NumVirtuals: o.numVirtuals ?? 0,
  });
  rt.fill(ee, "EEClass", { MethodTable: mt, NumNonVirtualSlots: o.numNonVirtual ?? 0 });
  return { mt, ee };
}

/** A MethodDescChunk of `flags` (one MethodDesc each), for `mt`, with token RIDs `rids` (same range); returns its MethodDescs. */
function chunk(rt: SyntheticRuntime, mt: number, mds: { flags: number; slot: number; rid: number; flags3?: number }[], next = 0) {
  const sizes = mds.map((m) => {
    const kinds = ["MethodDesc", "FCallMethodDesc", "PInvokeMethodDesc", "EEImplMethodDesc", "ArrayMethodDesc", "InstantiatedMethodDesc", "CLRToCOMCallMethodDesc", "DynamicMethodDesc"];
    let s = rt.size(kinds[m.flags & 7]!);
    if (m.flags & MDF.nonVtableSlot) s += 8;
    if (m.flags & MDF.methodImpl) s += 16;
    if (m.flags & MDF.nativeCodeSlot) s += 8;
    return Math.ceil(s / ALIGN) * ALIGN;
  });
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const c = rt.memory.alloc(rt.size("MethodDescChunk") + bytes, 8);
  const range = mds[0]!.rid >>> REMAINDER_BITS;
  rt.fill(c, "MethodDescChunk", { MethodTable: mt, Next: next, Size: bytes / ALIGN - 1, Count: mds.length - 1, FlagsAndTokenRange: range });
  let at = c + rt.size("MethodDescChunk");
  return {
    chunk: c,
    mds: mds.map((m, i) => {
      const md = at;
      rt.fill(md, "MethodDesc", {
        ChunkIndex: (md - c - rt.size("MethodDescChunk")) / ALIGN, Slot: m.slot, Flags: m.flags,
        Flags3AndTokenRemainder: (m.flags3 ?? 0) | (m.rid & ((1 << REMAINDER_BITS) - 1)),
      });
      at += sizes[i]!;
      return md;
    }),
  };
}

describe("RuntimeTypeSystem contract", () => {
  test("MethodDesc: chunk, MethodTable, slot and the token rebuilt from the chunk's range and the desc's remainder bits", () => {
    const rt = typeSystemRuntime();
    const { mt } = methodTable(rt, { flags2: 0x00ffffff << 8, baseSize: 0xfffffff8 });
    const { chunk: c, mds } = chunk(rt, mt, [{ flags: 0, slot: 0, rid: 0x1_23ff }, { flags: MDF.fcall, slot: 0xffff, rid: 0x1_2401 }]);
    const rts = new RuntimeTypeSystem(rt.target());
    assert.deepEqual(rts.methodDesc(mds[0]!), { address: mds[0], chunk: c, methodTable: mt, token: 0x0601_23ff, slot: 0 });
    assert.equal(rts.methodDesc(mds[1]!).slot, 0xffff);
    assert.deepEqual(rts.methodTable(mt), { address: mt, module: 0x5a5a_0bad_0000, token: 0x02ff_ffff, parent: 0, baseSize: 0xfffffff8 });
  });

  test("MethodTable details: strings, arrays, interfaces, the free object and a non-canonical instantiation", () => {
    const rt = typeSystemRuntime();
    const str = methodTable(rt, { flags: MTF.hasComponentSize | 2, baseSize: 0x16 });
    const arr = methodTable(rt, { flags: MTF.hasComponentSize | MTF.array | MTF.szArray | MTF.containsGCPointers | 8 });
    const itf = methodTable(rt, { flags: MTF.interface | MTF.collectible, numVirtuals: 3 });
    const free = methodTable(rt, { flags: MTF.hasComponentSize | 1 });
    const canon = methodTable(rt, { flags: MTF.genericInstantiation, numVirtuals: 2, numNonVirtual: 5 });
    rt.set(canon.ee, "EEClass", "NumMethods", 9);
    const inst = rt.alloc("MethodTable");
    rt.fill(inst, "MethodTable", { MTFlags: MTF.genericInstantiation, EEClassOrCanonMT: canon.mt + 1, NumVirtuals: 2, Module: 0x5a5a_0bad_0000 });
    rt.variable("FreeObjectMethodTable", free.mt);
    const d = new RuntimeTypeSystemDetails(rt.target(), new RuntimeTypeSystem(rt.target()));
    const s = d.methodTableDetails(str.mt);
    assert.deepEqual([s.isString, s.isArray, s.componentSize, s.isFree, s.eeClass, s.isCanonical], [true, false, 2, false, str.ee, true]);
    const a = d.methodTableDetails(arr.mt);
    assert.deepEqual([a.isString, a.isArray, a.componentSize, a.containsGCPointers], [false, true, 8, true]);
    const i = d.methodTableDetails(itf.mt);
    assert.deepEqual([i.isInterface, i.isCollectible, i.numVirtuals, i.numVtableSlots], [true, true, 3, 3]);
    assert.equal(d.methodTableDetails(free.mt).isFree, true);
    const n = d.methodTableDetails(inst);
    assert.deepEqual([n.isCanonical, n.canonicalMethodTable, n.eeClass, n.numMethods, n.numVtableSlots], [false, canon.mt, canon.ee, 9, 2], "an instantiation has its virtual slots only");
    assert.equal(d.methodTableDetails(canon.mt).numVtableSlots, 7);
  });

  test("introduced MethodDescs across chunks, each sized by its classification and optional slots; native code from the slot it says", () => {
    const rt = typeSystemRuntime();
    const { mt, ee } = methodTable(rt, { numVirtuals: 1, vtableSlots: 1 });
    // Vtable slot 0 through the indirection chunk right after the MethodTable.
    const vtableChunk = rt.memory.alloc(64, 8);
    rt.memory.u64(mt + rt.size("MethodTable"), vtableChunk);
    rt.memory.u64(vtableChunk, 0x5a5a_c0de_0000);
    const second = chunk(rt, mt, [{ flags: MDF.dynamic, slot: 2, rid: 0x500 }]);
    const first = chunk(rt, mt, [
      { flags: 0, slot: 0, rid: 0x401, flags3: 0x1000 }, // stable entry point, no precode: the vtable slot
      { flags: MDF.instantiated | MDF.nonVtableSlot | MDF.methodImpl | MDF.nativeCodeSlot | MDF.static, slot: 1, rid: 0x402 },
    ], second.chunk);
    rt.set(ee, "EEClass", "MethodDescChunk", first.chunk);
    // The instantiated method's non-vtable slot, MethodImpl, then its native code slot.
    const instMd = first.mds[1]!;
    rt.memory.u64(instMd + rt.size("InstantiatedMethodDesc"), 0x5a5a_e000_0001);
    rt.memory.u64(instMd + rt.size("InstantiatedMethodDesc") + 8 + 16, 0x5a5a_c0de_1000);
    const d = new RuntimeTypeSystemDetails(rt.target(), new RuntimeTypeSystem(rt.target()));
    assert.deepEqual(d.introducedMethodDescs(mt), [...first.mds, ...second.mds]);
    const m0 = d.methodDescDetails(first.mds[0]!);
    assert.deepEqual([m0.classification, m0.size, m0.nativeCode, m0.token], ["IL", 3 * ALIGN, 0x5a5a_c0de_0000, 0x0600_0401]);
    const m1 = d.methodDescDetails(instMd);
    assert.deepEqual([m1.classification, m1.isStatic, m1.size, m1.nativeCode], ["Instantiated", true, 5 * ALIGN + 32, 0x5a5a_c0de_1000]);
    assert.equal(d.methodDescDetails(second.mds[0]!).classification, "Dynamic");
    assert.equal(d.methodDescForSlot(mt, 1), instMd);
    assert.deepEqual(d.methodTableSlots(mt).map((s) => [s.slot, s.methodDesc]), [[0, first.mds[0]], [1, instMd], [2, second.mds[0]]]);
    assert.equal(d.methodTableSlots(mt)[1]!.entry, 0x5a5a_e000_0001, "a method with a non-vtable slot: its entry is that slot");
    assert.equal(d.methodTableSlots(mt)[2]!.entry, 0, "no non-virtual slot array (no AuxiliaryData): no entry, no error");
    // Non-virtual slots lie before the auxiliary data, at its (signed) OffsetToNonVirtualSlots.
    const region = rt.memory.alloc(128, 8);
    const aux = region + 96;
    rt.set(aux, "MethodTableAuxiliaryData", "OffsetToNonVirtualSlots", 0x10000 - 16);
    rt.set(mt, "MethodTable", "AuxiliaryData", aux);
    rt.memory.u64(aux - 16 - 2 * 8, 0x5a5a_c0de_2000);
    assert.equal(new RuntimeTypeSystemDetails(rt.target(), new RuntimeTypeSystem(rt.target())).slotValue(mt, 2), 0x5a5a_c0de_2000);
  });

  test("a chunk the dump lacks ends the method list there; a parent chain that loops ends without an answer", () => {
    const rt = typeSystemRuntime();
    const { mt, ee } = methodTable(rt, {});
    const second = chunk(rt, mt, [{ flags: 0, slot: 1, rid: 0x11 }]);
    const first = chunk(rt, mt, [{ flags: 0, slot: 0, rid: 0x10 }], second.chunk);
    rt.set(ee, "EEClass", "MethodDescChunk", first.chunk);
    rt.memory.drop(second.chunk, rt.size("MethodDescChunk"));
    const d = new RuntimeTypeSystemDetails(rt.target(), new RuntimeTypeSystem(rt.target()));
    assert.deepEqual(d.introducedMethodDescs(mt), first.mds);
    rt.set(mt, "MethodTable", "ParentMethodTable", mt);
    assert.equal(new RuntimeTypeSystemDetails(rt.target(), new RuntimeTypeSystem(rt.target())).methodDescForSlot(mt, 7), 0);
  });

  test("type handle shapes: a generic instantiation's arguments, an array's element and rank, pointer and generic-variable TypeDescs", () => {
    const rt = typeSystemRuntime();
    const intMt = methodTable(rt, { flags: 0x00070000 }); // a true primitive
    rt.set(intMt.ee, "EEClass", "InternalCorElementType", 0x08);
    const strMt = methodTable(rt, { flags: MTF.hasComponentSize | 2 });
    const generic = methodTable(rt, { flags: MTF.genericInstantiation, flags2: 0x1234 << 8 });
    // PerInstInfo -> [dictionary pointers]; GenericsDictInfo just before them; the last dictionary holds the arguments.
    const dictInfo = rt.memory.alloc(8 + 16, 8);
    rt.fill(dictInfo, "GenericsDictInfo", { NumDicts: 2, NumTypeArgs: 2 });
    const dictionary = rt.memory.alloc(16, 8);
    rt.memory.u64(dictionary, intMt.mt);
    rt.memory.u64(dictionary + 8, strMt.mt);
    rt.memory.u64(dictInfo + 8 + 8, dictionary);
    rt.set(generic.mt, "MethodTable", "PerInstInfo", dictInfo + 8);
    const array = methodTable(rt, { flags: MTF.hasComponentSize | MTF.array | 8 }); // multi-dimensional
    rt.set(array.mt, "MethodTable", "PerInstInfo", strMt.mt);
    const arrayClass = rt.fill(rt.alloc("ArrayClass"), "ArrayClass", { Rank: 3 });
    rt.set(array.mt, "MethodTable", "EEClassOrCanonMT", arrayClass);
    rt.set(arrayClass, "EEClass", "MethodTable", array.mt);
    const ptr = rt.fill(rt.alloc("ParamTypeDesc", 16), "TypeDesc", { TypeAndFlags: 0xabcd_000f });
    rt.set(ptr, "ParamTypeDesc", "TypeArg", intMt.mt);
    const mvar = rt.fill(rt.alloc("TypeVarTypeDesc", 16), "TypeDesc", { TypeAndFlags: 0x1e });
    rt.fill(mvar, "TypeVarTypeDesc", { Module: 0x5a5a_0bad_0000, Token: 0x2a00_0003 });
    const names = new RuntimeTypeNames(rt.target(), new RuntimeTypeSystemDetails(rt.target(), new RuntimeTypeSystem(rt.target())));
    assert.deepEqual(names.typeHandleShape(generic.mt), { kind: "class", methodTable: generic.mt, module: 0x5a5a_0bad_0000, token: 0x0200_1234, instantiation: [intMt.mt, strMt.mt], isGenericTypeDefinition: false });
    assert.equal((names.typeHandleShape(intMt.mt) as { primitiveElementType?: number }).primitiveElementType, 0x08);
    assert.deepEqual(names.typeHandleShape(array.mt), { kind: "array", methodTable: array.mt, elementType: strMt.mt, rank: 3, sz: false });
    assert.deepEqual(names.typeHandleShape(ptr + 2), { kind: "ptr", typeDesc: ptr, typeArg: intMt.mt });
    assert.deepEqual(names.typeHandleShape(mvar + 2), { kind: "mvar", typeDesc: mvar, module: 0x5a5a_0bad_0000, token: 0x2a00_0003 });
  });
});
