// The CodeVersions contract on synthetic memory with a descriptor of chosen layouts (offsets unlike
// any real runtime's, so that only the descriptor can place them): a rejitted method (an explicit
// IL code version with its own IL and native code, active), the tier a descriptor publishes, a
// looping node list (a typed error, no hang) and descriptors that lack fields or the contract.
// Real dumps only have default IL versions (no profiler rejits them): this is where explicit ones
// are checked.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Memory } from "../../src/dump/address-space.js";
import { ClrscopeError, CorruptDataError } from "../../src/errors.js";
import { CodeVersions } from "../../src/runtime/contracts/code-versions.js";
import { RuntimeDescriptor, type TypeLayout } from "../../src/runtime/contracts/descriptor.js";
import type { Loader } from "../../src/runtime/contracts/loader.js";
import type { RuntimeTypeSystemDetails } from "../../src/runtime/contracts/runtime-type-system.js";
import { RuntimeTarget } from "../../src/runtime/contracts/target.js";
import { SyntheticMemory } from "../support/descriptor-writer.js";

const BASE = 0x10000;
const SIZE = 0x1000;

/** Memory from BASE to BASE+SIZE (structures placed by hand below); everything else is not in the dump. */
function syntheticMemory(): SyntheticMemory {
  const m = new SyntheticMemory(BASE, SIZE);
  m.map(BASE, SIZE);
  return m;
}

const layout = (fields: Record<string, number>): TypeLayout => ({ fields: new Map(Object.entries(fields).map(([f, offset]) => [f, { offset }])) });

/** Chosen layouts (not .NET 10's): the reader must take every offset from here. */
function types(): Map<string, TypeLayout> {
  return new Map([
    ["MethodDesc", layout({ CodeData: 0x18 })],
    ["MethodTable", layout({ Module: 0x28 })],
    ["MethodDescCodeData", layout({ TemporaryEntryPoint: 0x0, VersioningState: 0x10 })],
    ["MethodDescVersioningState", layout({ Flags: 0x4, NativeCodeVersionNode: 0x18 })],
    ["NativeCodeVersionNode", layout({ Next: 0x0, NativeCode: 0x10, MethodDesc: 0x20, ILVersionId: 0x28, Flags: 0x30, OptimizationTier: 0x38 })],
    ["ILCodeVersioningState", layout({ FirstVersionNode: 0x0, ActiveVersionKind: 0x8, ActiveVersionNode: 0x10, ActiveVersionModule: 0x10, ActiveVersionMethodDef: 0x18 })],
    ["ILCodeVersionNode", layout({ Next: 0x8, VersionId: 0x10, RejitState: 0x1c, ILAddress: 0x20 })],
  ]);
}

// Where the structures lie in the synthetic memory.
const MD = BASE + 0x100;
const MT = BASE + 0x200;
const MODULE = BASE + 0x280;
const CODE_DATA = BASE + 0x300;
const VERSIONING = BASE + 0x380;
const NODE_TIER0 = BASE + 0x400; // a native version of the default IL (not active)
const NODE_REJIT = BASE + 0x480; // the rejitted IL's native code (active)
const IL_STATE = BASE + 0x500;
const IL_NODE = BASE + 0x580;
const DEFAULT_CODE = 0x7000_0000;
const REJIT_IL = 0x6000_1234;
const TOKEN = 0x06000005;

function rejittedMethod(): SyntheticMemory {
  const m = syntheticMemory();
  m.u64(MD + 0x18, CODE_DATA);
  m.u64(MT + 0x28, MODULE);
  m.u64(CODE_DATA + 0x10, VERSIONING);
  m.u8(VERSIONING + 0x4, 0); // the default native code version is not active
  m.u64(VERSIONING + 0x18, NODE_REJIT);
  // NODE_REJIT -> NODE_TIER0 (the runtime links new nodes first).
  m.u64(NODE_REJIT + 0x0, NODE_TIER0);
  m.u64(NODE_REJIT + 0x10, 0x7000_2000);
  m.u64(NODE_REJIT + 0x20, MD);
  m.u64(NODE_REJIT + 0x28, 1);
  m.u32(NODE_REJIT + 0x30, 1); // IsActiveChild
  m.u32(NODE_REJIT + 0x38, 1); // OptimizationTier1
  m.u64(NODE_TIER0 + 0x0, 0);
  m.u64(NODE_TIER0 + 0x10, 0x7000_1000);
  m.u64(NODE_TIER0 + 0x20, MD);
  m.u64(NODE_TIER0 + 0x28, 0);
  m.u32(NODE_TIER0 + 0x30, 0);
  m.u32(NODE_TIER0 + 0x38, 3); // OptimizationTierOptimized
  m.u64(IL_STATE + 0x0, IL_NODE);
  m.u32(IL_STATE + 0x8, 1); // ILCodeVersionKind.Explicit
  m.u64(IL_STATE + 0x10, IL_NODE);
  m.u64(IL_NODE + 0x8, 0);
  m.u64(IL_NODE + 0x10, 1); // rejit id 1
  m.u32(IL_NODE + 0x1c, 2); // kStateActive
  m.u64(IL_NODE + 0x20, REJIT_IL);
  return m;
}

function codeVersions(memory: Memory, opts: { types?: Map<string, TypeLayout>; contract?: boolean; ilStateMap?: boolean } = {}): CodeVersions {
  const descriptor = new RuntimeDescriptor(0, opts.types ?? types(), new Map(), new Map(opts.contract === false ? [] : [["CodeVersions", 1]]), []);
  const target = new RuntimeTarget(memory, descriptor);
  // Only what CodeVersions asks of the other contracts.
  const typeSystem = {
    methodDescDetails: (address: number) => ({ address, methodTable: MT, token: TOKEN, nativeCode: DEFAULT_CODE }),
  } as unknown as RuntimeTypeSystemDetails;
  const loader = {
    module: () => ({ maps: { methodDefToILCodeVersioningState: opts.ilStateMap === false ? undefined : BASE + 0x900 } }),
    lookupMapElement: (_map: number, rid: number) => ({ value: rid === (TOKEN & 0xffffff) ? IL_STATE : 0, flags: 0 }),
    peImage: () => undefined,
  } as unknown as Loader;
  return new CodeVersions(target, typeSystem, loader);
}

test("a rejitted method: the default IL version with its two native versions, the explicit IL version active with its own IL and code", () => {
  const v = codeVersions(rejittedMethod()).versions(MD);
  assert.equal(v.ilVersions.length, 2);
  const [def, rejit] = v.ilVersions;
  assert.deepEqual({ node: def!.node, rejitId: def!.rejitId, isActive: def!.isActive, ilAddress: def!.ilAddress }, { node: 0, rejitId: 0, isActive: false, ilAddress: undefined });
  assert.deepEqual(def!.nativeVersions, [
    { node: 0, nativeCode: DEFAULT_CODE, isActive: false, tier: undefined },
    { node: NODE_TIER0, nativeCode: 0x7000_1000, isActive: false, tier: "Optimized" },
  ]);
  assert.deepEqual({ node: rejit!.node, rejitId: rejit!.rejitId, rejitState: rejit!.rejitState, isActive: rejit!.isActive, ilAddress: rejit!.ilAddress }, { node: IL_NODE, rejitId: 1, rejitState: 2, isActive: true, ilAddress: REJIT_IL });
  assert.deepEqual(rejit!.nativeVersions, [{ node: NODE_REJIT, nativeCode: 0x7000_2000, isActive: true, tier: "OptimizedTier1" }]);
  assert.deepEqual(v.activeNativeVersion, rejit!.nativeVersions[0]);
  // The default IL cannot be located without the module's image; the synthetic version's tier is not published here.
  assert.ok(v.missing.some((m) => m.includes("PE image")), JSON.stringify(v.missing));
  assert.ok(v.missing.includes("MethodDescCodeData.OptimizationTier"), JSON.stringify(v.missing));
});

test("the default native code version is active when the versioning state says so, and when there is none", () => {
  const m = rejittedMethod();
  m.u32(IL_STATE + 0x8, 2); // the synthetic IL version is active
  m.u8(VERSIONING + 0x4, 0x4); // IsDefaultVersionActiveChildFlag
  m.u32(NODE_REJIT + 0x30, 0);
  const v = codeVersions(m).versions(MD);
  assert.deepEqual(v.ilVersions.map((il) => il.isActive), [true, false]);
  assert.equal(v.activeNativeVersion?.node, 0);
  assert.equal(v.activeNativeVersion?.nativeCode, DEFAULT_CODE);

  m.u64(CODE_DATA + 0x10, 0); // no MethodDescVersioningState at all
  const none = codeVersions(m).versions(MD);
  assert.deepEqual(none.ilVersions[0]!.nativeVersions, [{ node: 0, nativeCode: DEFAULT_CODE, isActive: true, tier: undefined }]);
});

test("a looping native code version list is a typed error, not a hang", () => {
  const m = rejittedMethod();
  m.u64(NODE_TIER0 + 0x0, NODE_REJIT);
  assert.throws(() => codeVersions(m).versions(MD), CorruptDataError);
  // A loop of nodes that belong to another MethodDesc too.
  m.u64(NODE_TIER0 + 0x20, MD + 8);
  m.u64(NODE_REJIT + 0x20, MD + 8);
  assert.throws(() => codeVersions(m).versions(MD), CorruptDataError);
  const il = rejittedMethod();
  il.u64(IL_NODE + 0x8, IL_NODE);
  assert.throws(() => codeVersions(il).versions(MD), CorruptDataError);
});

test("a descriptor without the fields: what is missing is named, the rest still reads; without the contract a clear error", () => {
  const t = types();
  t.get("NativeCodeVersionNode")!.fields.delete("OptimizationTier");
  t.get("ILCodeVersionNode")!.fields.delete("ILAddress");
  const v = codeVersions(rejittedMethod(), { types: t }).versions(MD);
  assert.equal(v.ilVersions[1]!.ilAddress, undefined);
  assert.equal(v.activeNativeVersion?.tier, undefined);
  assert.equal(v.activeNativeVersion?.nativeCode, 0x7000_2000);
  for (const f of ["NativeCodeVersionNode.OptimizationTier", "ILCodeVersionNode.ILAddress"]) assert.ok(v.missing.includes(f), `${f} in ${JSON.stringify(v.missing)}`);

  const noMap = codeVersions(rejittedMethod(), { ilStateMap: false }).versions(MD);
  assert.equal(noMap.ilVersions.length, 1);
  assert.ok(noMap.missing.includes("Module.MethodDefToILCodeVersioningStateMap"));

  const noCodeData = types();
  noCodeData.get("MethodDesc")!.fields.delete("CodeData");
  const plain = codeVersions(rejittedMethod(), { types: noCodeData }).versions(MD);
  assert.deepEqual(plain.ilVersions[0]!.nativeVersions.map((n) => n.node), [0]);
  assert.ok(plain.missing.includes("MethodDesc.CodeData"));

  assert.throws(() => codeVersions(rejittedMethod(), { contract: false }).versions(MD), (e: unknown) => e instanceof ClrscopeError && /CodeVersions contract/.test(e.message));
  // A structure the descriptor does not describe at all: the error names the type and field.
  const noNode = types();
  noNode.delete("ILCodeVersionNode");
  assert.throws(() => codeVersions(rejittedMethod(), { types: noNode }).versions(MD), (e: unknown) => e instanceof ClrscopeError && /ILCodeVersionNode\.VersionId/.test(e.message));
});
