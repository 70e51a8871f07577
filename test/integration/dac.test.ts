// The DAC backend (the runtime's own libmscordaccore.so loaded through koffi) on createdump
// dumps of test/targets/hello (.NET 10 full and heap; .NET 8 self-contained, which has no
// data-contract descriptor), against oracles clrscope did not produce:
// - the app's truth file: a pinned Hello.Program+TruthFields whose fields (int, long, bool,
//   double, string, nested struct, static) the process read back by reflection;
// - ClrMD (its own DAC session, in another process) for field offsets, tokens, types and the
//   static field's address;
// - the contracts backend (the runtime's data descriptor, pure TypeScript): threads,
//   MethodTables, MethodDescs and objects must read the same through both backends;
// - gdb, for the registers our data target hands the DAC (GetThreadContext).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resultOf, runCli, runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet, type TruthField } from "../support/dotnet-fixtures.js";
import type { DumpobjField, DumpobjResult } from "../../src/commands/sos/dumpobj.js";
import type { RuntimeInfoResult } from "../../src/commands/runtime-info.js";
import { openCoreDump } from "../../src/native/process.js";
import { openContractsRuntime } from "../../src/runtime/open-runtime.js";
import { ManagedNames } from "../../src/runtime/managed-names.js";
import { openDacRuntime } from "../../src/runtime/dac/dac-runtime.js";
import { loadKoffi } from "../../src/runtime/dac/koffi.js";
import { ComPtr, S_OK } from "../../src/runtime/dac/com.js";
import { CONTEXT_GPR_BASE, CONTEXT_GPRS, CONTEXT_SIZE, createDataTarget } from "../../src/runtime/dac/data-target.js";
import { gdbRegisters } from "../support/gdb-oracle.js";

const skip = !hasDotnet() ? "no dotnet SDK on PATH" : loadKoffi().error ?? false;
const big = (h: string) => BigInt(h);

/** Our field's value against the truth's invariant text (Convert.ToString). */
function assertValue(ours: DumpobjField, truth: TruthField, where: string): void {
  if (truth.fields) {
    assert.equal(ours.kind, "struct", `${where}: kind`);
    assertFields(ours.fields ?? [], truth.fields, where);
    return;
  }
  switch (truth.type) {
    case "System.String":
      assert.equal(ours.kind, "ref", `${where}: kind`);
      assert.equal(ours.string, truth.value, `${where}: string`);
      break;
    case "System.Boolean":
      assert.equal(ours.kind, "bool", `${where}: kind`);
      assert.equal(ours.value, truth.value!.toLowerCase(), `${where}: value`);
      break;
    case "System.Double":
    case "System.Single":
      assert.equal(ours.kind, "float", `${where}: kind`);
      assert.equal(Number(ours.value), Number(truth.value), `${where}: value`);
      break;
    default:
      assert.equal(ours.kind, "int", `${where}: kind`);
      assert.equal(ours.value, truth.value, `${where}: value`);
  }
}

function assertFields(ours: DumpobjField[], truth: TruthField[], where: string): void {
  for (const t of truth) {
    const f = ours.find((x) => x.name === t.name);
    assert.ok(f, `${where}: no field ${t.name} in ${JSON.stringify(ours.map((x) => x.name))}`);
    assert.equal(f.type, t.type, `${where}.${t.name}: type`);
    assert.equal(f.attr, t.isStatic ? "static" : "instance", `${where}.${t.name}: attr`);
    assertValue(f, t, `${where}.${t.name}`);
  }
  assert.equal(ours.length, truth.length, `${where}: field count`);
}

const FIELD_DUMPS = [
  { label: "a full dump", dump: () => dotnetDump("hello", "full"), descriptor: true },
  { label: "a heap dump", dump: () => dotnetDump("hello", "heap"), descriptor: true },
  // .NET 8 publishes no data-contract descriptor: dumpobj is the DAC's alone there.
  { label: "a .NET 8 full dump (no descriptor)", dump: () => dotnetDump("hello", "full", "net8.0"), descriptor: false },
];

for (const { label, dump, descriptor } of FIELD_DUMPS) {
  describe(`DAC fields on ${label} of hello`, { skip, timeout: 900_000 }, () => {
    test("do lists every field of TruthFields: names, types and values as the process saw them; offsets, tokens and the static's address as ClrMD", () => {
      const d = dump();
      const o = d.truth.objects.fields;
      const s = d.truth.objects.string;
      const { docs, status, stderr } = runCliJson(d.core, [`do ${o.address}`, `do ${s.address}`, ...(descriptor ? ["runtime"] : [])]);
      assert.equal(status, 0, stderr);
      const str = resultOf<DumpobjResult>(docs, `do ${s.address}`);
      assert.equal(str.name, "System.String");
      assert.equal(str.string, s.value);
      const r = resultOf<DumpobjResult>(docs, `do ${o.address}`);
      assert.equal(r.name, o.type);
      assert.equal(big(r.methodTable), big(d.truth.methodTables["Hello.Program+TruthFields"]!));
      assert.equal(r.fieldsSource, "dac", r.fieldsNote);
      assertFields(r.fields!, o.fields, o.type);
      const point = r.fields!.find((f) => f.name === "PointField")!;
      assert.equal(big(point.methodTable!), big(d.truth.methodTables["Hello.Program+TruthPoint"]!), "struct field's MT column");
      if (descriptor) {
        const rt = resultOf<RuntimeInfoResult>(docs, "runtime");
        assert.equal(rt.dac.active, true, rt.dac.error);
        assert.equal(rt.dac.path, `${d.truth.runtimeDir}/libmscordaccore.so`);
      }

      // The exception's fields (its own and System.Exception's) and the array its _stackTrace holds.
      const e = d.truth.objects.exception;
      const { docs: eDocs } = runCliJson(d.core, [`do ${e.address}`]);
      const ex = resultOf<DumpobjResult>(eDocs, `do ${e.address}`);
      assert.equal(ex.name, e.type);
      assert.equal(ex.fieldsSource, "dac");
      assert.equal(ex.fields!.find((f) => f.name === "_message")!.string, e.message);
      assert.equal(Number(ex.fields!.find((f) => f.name === "_HResult")!.value) >>> 0, parseInt(e.hResult, 16));
      const stackTrace = ex.fields!.find((f) => f.name === "_stackTrace")!;
      assert.equal(stackTrace.kind, "ref");
      const { docs: aDocs } = runCliJson(d.core, [`do ${stackTrace.value}`]);
      const arr = resultOf<DumpobjResult>(aDocs, `do ${stackTrace.value}`);
      const theirArray = clrmdOracle(d.core, "objects", stackTrace.value).result.objects[0]!;
      assert.equal(arr.name, theirArray.type);
      assert.equal(arr.size, theirArray.size);
      assert.equal(arr.array!.length, theirArray.array!.length);
      assert.equal(arr.array!.elementType, theirArray.array!.componentType);

      const theirs = clrmdOracle(d.core, "objects", o.address).result.objects[0]!;
      assert.equal(theirs.type, o.type);
      assert.equal(r.size, theirs.size, "size");
      const instance = r.fields!.filter((f) => f.attr === "instance");
      assert.equal(instance.length, theirs.fields!.length, "instance field count");
      for (const f of instance) {
        const t = theirs.fields!.find((x) => x.name === f.name);
        assert.ok(t, `ClrMD has no field ${f.name}`);
        assert.equal(f.offset, t.objectOffset, `${f.name}: offset`);
        assert.equal(big(f.token!), big(t.token), `${f.name}: token`);
        assert.equal(f.type, t.type, `${f.name}: type`);
        if (f.kind === "int" || f.kind === "float") assert.equal(String(t.value), f.value, `${f.name}: value`);
        if (f.kind === "bool") assert.equal(String(t.value), f.value, `${f.name}: value`);
        if (f.kind === "ref") assert.equal(big(f.value), big((t.value as { ref: string }).ref), `${f.name}: value`);
        if (f.kind === "struct") assert.equal(big(f.value), big((t.value as { valueTypeAddress: string }).valueTypeAddress), `${f.name}: address`);
      }
      const type = clrmdOracle(d.core, "types", r.methodTable).result.types[0]!.matches[0]!;
      const staticOurs = r.fields!.find((f) => f.attr === "static")!;
      const staticTheirs = type.staticFields.find((f) => f.name === staticOurs.name);
      assert.ok(staticTheirs?.address, `ClrMD gives no address for ${staticOurs.name}: ${JSON.stringify(type.staticFields)}`);
      assert.equal(big(staticOurs.address!), big(staticTheirs.address), "static field address");
      assert.equal(big(staticOurs.token!), big(staticTheirs.token), "static field token");
    });
  });
}

describe("DAC backend on a full dump of hello", { skip, timeout: 900_000 }, () => {
  test("the DAC and the data-contract backends agree: threads, MethodTables, MethodDescs, names, objects", () => {
    const d = dotnetDump("hello", "full");
    // Every MethodDesc on a managed stack (from the contracts backend's stack walk), plus the truth file's.
    const { docs } = runCliJson(d.core, ["clrstack -all"]);
    const stacks = resultOf<{ threads: { frames: { methodDesc: string | null }[] }[] }>(docs, "clrstack -all");
    const stackMethodDescs = new Set(stacks.threads.flatMap((t) => t.frames.flatMap((f) => (f.methodDesc ? [Number(big(f.methodDesc))] : []))));
    assert.ok(stackMethodDescs.size >= 10, `only ${stackMethodDescs.size} MethodDescs on the stacks`);
    const process = openCoreDump(d.core);
    try {
      const contracts = openContractsRuntime(process);
      const { dac, error } = openDacRuntime(process);
      assert.ok(dac, error);

      const key = (t: { address: number; osId: number; managedId: number; state: number }) => ({ address: t.address, osId: t.osId, managedId: t.managedId, state: t.state });
      const ours = contracts.threads().map(key);
      assert.deepEqual(dac.threads().map(key), ours, "thread list");
      assert.deepEqual(dac.threadStoreCounts(), contracts.threadStoreCounts(), "thread store counts");
      for (const t of d.truth.threads) assert.ok(ours.some((x) => x.osId === t.osTid && x.managedId === t.managedId), `truth thread ${t.role}`);

      const names = new ManagedNames(contracts, process.memory);
      const details = contracts.typeSystemDetails();
      const methodTables = new Map(Object.entries(d.truth.methodTables).map(([name, mt]) => [Number(big(mt)), name]));
      for (const md of stackMethodDescs) methodTables.set(contracts.methodDesc(md).methodTable, `MethodTable of MethodDesc 0x${md.toString(16)}`);
      for (const [mt, name] of methodTables) {
        const c = details.methodTableDetails(mt);
        const x = dac.methodTable(mt);
        assert.deepEqual(
          { baseSize: x.baseSize, parent: x.parent, module: x.module, numMethods: x.numMethods, token: x.token, componentSize: x.componentSize },
          // GetMethodTableData reports String's BaseSize without the terminating NUL (request.cpp: BaseSize -= sizeof(WCHAR)).
          { baseSize: c.baseSize - (c.isString ? 2 : 0), parent: c.parent, module: c.module, numMethods: c.numMethods, token: c.token, componentSize: c.componentSize },
          name,
        );
      }
      const methodDescs = new Map([...stackMethodDescs].map((md) => [md, `MethodDesc 0x${md.toString(16)}`]));
      for (const [name, md] of Object.entries(d.truth.methodDescs)) methodDescs.set(Number(big(md)), name);
      for (const [md, name] of methodDescs) {
        const c = contracts.methodDesc(md);
        const x = dac.methodDesc(md);
        assert.deepEqual({ token: x.token, slot: x.slot, methodTable: x.methodTable }, { token: c.token, slot: c.slot, methodTable: c.methodTable }, name);
      }
      // Names: the DAC's own (GetMethodDescName, GetMethodTableName) and ours from the metadata.
      for (const [name, md] of Object.entries(d.truth.methodDescs)) assert.equal(dac.sos.methodDescName(Number(big(md))), names.methodSignature(Number(big(md))), name);
      for (const [name, mt] of Object.entries(d.truth.methodTables)) {
        assert.equal(dac.methodTableName(Number(big(mt))), name);
        assert.equal(names.typeName(Number(big(mt))), name);
      }
      for (const [name, o] of Object.entries(d.truth.objects)) {
        const address = Number(big(o.address));
        const c = contracts.objects().info(address);
        const x = dac.object(address);
        assert.deepEqual({ methodTable: x.methodTable, size: x.size }, { methodTable: c.methodTable, size: c.size }, name);
        assert.equal(x.kind === "string", c.isString, `${name}: string?`);
        assert.equal(x.kind === "array", c.isArray, `${name}: array?`);
      }
    } finally {
      process.close();
    }
  });

  test("the data target's GetThreadContext hands the DAC each thread's registers as gdb reads them", () => {
    const d = dotnetDump("hello", "full");
    const names = ["rip", "rsp", "rbp", "rax", "rbx", "r12", "r15"] as const;
    const gdb = gdbRegisters(d.truth.processPath, d.core, [...names]);
    const process = openCoreDump(d.core);
    try {
      const koffi = loadKoffi().koffi!;
      const coreclr = process.modules.modules.find((m) => m.name === "libcoreclr.so")!;
      const target = new ComPtr(koffi, createDataTarget(koffi, process, coreclr.base, { reads: 0, failedReads: 0 }).pointer);
      const getThreadContext = "int GetThreadContext(void *self, uint32_t thread, uint32_t flags, uint32_t size, void *context)";
      assert.equal(gdb.size, process.threads.length, "gdb's thread count");
      for (const [tid, regs] of gdb) {
        const context = Buffer.alloc(CONTEXT_SIZE);
        assert.equal(target.call(11, getThreadContext, tid, 0x10001f, CONTEXT_SIZE, context), S_OK, `thread ${tid}`);
        for (const name of names) assert.equal(context.readBigUInt64LE(CONTEXT_GPR_BASE + CONTEXT_GPRS.indexOf(name) * 8), regs[name], `thread ${tid}: ${name}`);
      }
      assert.notEqual(target.call(11, getThreadContext, 1, 0x10001f, CONTEXT_SIZE, Buffer.alloc(CONTEXT_SIZE)), S_OK, "no such thread");
    } finally {
      process.close();
    }
  });

  test("a missing DAC: exit 3 before opening; a bad DAC: one clear line, do still prints the object and says why fields are missing", () => {
    const d = dotnetDump("hello", "full");
    const o = d.truth.objects.fields;
    // A --dac that does not exist is a bad command line (checked before the dump opens).
    const missing = runCli(["analyze", d.core, "--dac", "/nonexistent/libmscordaccore.so", "-c", "runtime"]);
    assert.equal(missing.status, 3, missing.stderr);
    assert.match(missing.stderr, /^clrscope: \/nonexistent\/libmscordaccore\.so: no such file\n$/);
    for (const [dac, why] of [
      ["/etc/hostname", /cannot load the DAC \/etc\/hostname/],
      [`${d.truth.runtimeDir}/libSystem.Native.so`, /is not a DAC \(it exports no CLRDataCreateInstance\)/],
    ] as const) {
      const { docs, status, stderr } = runCliJson(d.core, [`do ${o.address}`, "runtime"], ["--dac", dac]);
      assert.equal(status, 0, stderr);
      assert.equal(stderr, "");
      const rt = resultOf<RuntimeInfoResult>(docs, "runtime");
      assert.equal(rt.dac.active, false);
      assert.match(rt.dac.error!, why);
      assert.doesNotMatch(rt.dac.error!, /\n/);
      const r = resultOf<DumpobjResult>(docs, `do ${o.address}`);
      assert.equal(r.name, o.type);
      assert.equal(r.fields, null);
      assert.match(r.fieldsNote, why);
      const text = runCli(["analyze", d.core, "--dac", dac, "-c", `do ${o.address}`]);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /Fields:\n<this runtime's data descriptor does not publish the FieldDesc layout and the DAC is not available/);
    }
  });

  test("a DAC of another runtime build is refused before it is loaded (it would misread or crash)", () => {
    const net10 = dotnetDump("hello", "full");
    const net8 = dotnetDump("hello", "full", "net8.0");
    const o = net10.truth.objects.fields;
    const { docs, status, stderr } = runCliJson(net10.core, [`do ${o.address}`, "runtime"], ["--dac", `${net8.truth.runtimeDir}/libmscordaccore.so`]);
    assert.equal(status, 0, stderr);
    const rt = resultOf<RuntimeInfoResult>(docs, "runtime");
    assert.equal(rt.dac.active, false);
    assert.match(rt.dac.error!, /is build 8\.0\.[\d.]+ @Commit: [0-9a-f]+, but the dump's runtime is build 10\.0\.[\d.]+ @Commit: [0-9a-f]+: pass --dac/);
    assert.equal(resultOf<DumpobjResult>(docs, `do ${o.address}`).fields, null);

    // .NET 8 has no descriptor: with the wrong DAC nothing managed can answer, in one line, without a crash.
    const r = runCli(["analyze", net8.core, "--dac", `${net10.truth.runtimeDir}/libmscordaccore.so`, "-c", "clrthreads"], { timeout: 60_000 });
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^clrscope: .*exports no DotNetRuntimeContractDescriptor.*the DAC is not available either: the DAC .* is build 10\..*, but the dump's runtime is build 8\..*\n$/);
  });

  test("batch runs that load the DAC exit promptly, every time", () => {
    const d = dotnetDump("hello", "full");
    const o = d.truth.objects;
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const r = runCli(["analyze", d.core, "-c", `do ${o.fields.address}`, "-c", `do ${o.exception.address}`, "-c", "runtime"], { timeout: 30_000 });
      assert.equal(r.error, undefined, `run ${i}: ${r.error?.message} after ${Date.now() - started} ms`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Backend: dac \(/);
    }
  });
});
