// Sanity checks of the ClrMD oracle itself (test/support/clrmd-oracle.ts) against the hello
// target's truth file, so that clrscope's tests can later compare against ClrMD with confidence.
// No clrscope code is involved here: truth.json (written by the target) vs ClrMD (via the DAC).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  clrmdOracle,
  clrmdOracleCacheFile,
  type ClrmdDoc,
  type ClrmdThreadStack,
} from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet, type DotnetDump, type TruthThread } from "../support/dotnet-fixtures.js";

const noDotnet = hasDotnet() ? false : "no dotnet SDK on PATH";

/** The "@(#)Version ..." string a .NET build stamps into its native binaries. */
function buildVersion(file: string): string | null {
  const m = /@\(#\)Version ([\x20-\x7e]+)/.exec(readFileSync(file).toString("latin1"));
  return m ? m[1]! : null;
}

/** "Hello.Program.SleepForever()" -> "Hello.Program.SleepForever". */
function methodOf(signature: string | null | undefined): string | undefined {
  return signature?.slice(0, signature.indexOf("(") >= 0 ? signature.indexOf("(") : undefined);
}

/** The truth file's MethodHandle/TypeHandle values (written by newer builds of hello; {} if absent). */
function handles(d: DotnetDump): { methodDescs: Record<string, string>; methodTables: Record<string, string> } {
  const t = d.truth as Partial<{ methodDescs: Record<string, string>; methodTables: Record<string, string> }>;
  return { methodDescs: t.methodDescs ?? {}, methodTables: t.methodTables ?? {} };
}

function stackOf(stacks: ClrmdDoc<"stacks">, th: TruthThread): ClrmdThreadStack {
  const s = stacks.result.threads.find((x) => x.osThreadId === th.osTid);
  assert.ok(s, `no ClrMD stack for truth thread ${th.role} (tid ${th.osTid})`);
  return s;
}

describe("ClrMD oracle on a createdump full dump of test/targets/hello", { skip: noDotnet, timeout: 900_000 }, () => {
  let d: DotnetDump;

  before(() => {
    d = dotnetDump("hello", "full");
  });

  test("runtime: the libcoreclr.so of the truth file, its own DAC, one app domain", () => {
    const doc = clrmdOracle(d.core, "runtime");
    assert.match(doc.clrmdVersion, /^4\.1\./);
    assert.equal(doc.processId, d.truth.pid);
    assert.equal(doc.pointerSize, 8);
    const rt = doc.result;
    assert.equal(rt.clrCount, 1);
    assert.equal(rt.clrInfo.flavor, "Core");
    assert.equal(rt.clrInfo.module.fileName, d.truth.libcoreclr);
    assert.equal(doc.dacPath, `${d.truth.runtimeDir}/libmscordaccore.so`);
    // ClrMD skips its version check on Linux dumps (it reads 0.0 from the ELF): check it here.
    const coreclrVersion = buildVersion(d.truth.libcoreclr);
    assert.ok(coreclrVersion, `no @(#)Version in ${d.truth.libcoreclr}`);
    assert.equal(doc.dacFileVersion, coreclrVersion, "the DAC is not from the dumped runtime's build");
    assert.equal(rt.appDomains.length, 1, JSON.stringify(rt.appDomains));
    assert.match(rt.appDomains[0]!.address!, /^0x[0-9a-f]+$/);
    assert.ok(rt.baseClassLibrary?.name.startsWith(`${d.truth.runtimeDir}/System.Private.CoreLib.dll`), rt.baseClassLibrary?.name);
    assert.equal(rt.heap.canWalkHeap, true);
  });

  test("threads: every truth thread, by OS id, with its managed id and kind", () => {
    const doc = clrmdOracle(d.core, "threads");
    const threads = doc.result.threads;
    assert.equal(threads.filter((t) => t.error !== undefined).length, 0, JSON.stringify(threads.filter((t) => t.error)));
    for (const th of d.truth.threads) {
      const t = threads.find((x) => x.osThreadId === th.osTid);
      assert.ok(t, `truth thread ${th.role} (tid ${th.osTid}) missing from ClrMD's threads`);
      assert.equal(t.managedThreadId, th.managedId, `${th.role}: managed id`);
      assert.equal(t.isBackground, th.isBackground, `${th.role}: background`);
      assert.equal(t.isThreadpoolWorker, th.isThreadPool, `${th.role}: thread-pool worker`);
      assert.equal(t.isAlive, true, `${th.role}: alive`);
      assert.equal(t.gcMode, "Preemptive", `${th.role}: blocked threads run preemptive`);
      assert.equal(t.currentException, null, `${th.role}: no exception in flight`);
    }
    const ids = threads.map((t) => t.managedThreadId);
    assert.equal(new Set(ids).size, ids.length, `duplicate managed ids: ${ids.join(",")}`);
    assert.equal(threads.filter((t) => t.isFinalizer).length, 1, "exactly one finalizer thread");
  });

  test("stacks: each parked thread's stack holds the method it is parked in", () => {
    const doc = clrmdOracle(d.core, "stacks");
    for (const th of d.truth.threads) {
      const s = stackOf(doc, th);
      assert.equal(s.error, undefined, `${th.role}: walk failed: ${s.error}`);
      const managed = s.frames.filter((f) => f.kind === "ManagedMethod");
      const names = managed.map((f) => methodOf(f.method?.signature));
      assert.ok(names.includes(th.parkedIn), `${th.role}: ${th.parkedIn} not in ClrMD's stack:\n  ${names.join("\n  ")}`);
      const md = handles(d).methodDescs[th.parkedIn];
      if (md !== undefined) {
        const frame = managed.find((f) => methodOf(f.method?.signature) === th.parkedIn)!;
        assert.equal(frame.method!.methodDesc, md, `${th.role}: MethodDesc of ${th.parkedIn} (truth: MethodHandle.Value)`);
      }
      // Managed frames go from the innermost (lowest SP) outwards.
      for (let i = 1; i < managed.length; i++) {
        assert.ok(BigInt(managed[i]!.sp) >= BigInt(managed[i - 1]!.sp), `${th.role}: SP goes down at frame ${i}`);
      }
      for (const f of managed) {
        assert.match(f.method!.metadataToken, /^0x06[0-9a-f]{6}$/, `${th.role}: ${f.text}`);
        assert.notEqual(f.method!.methodDesc, "0x0");
        assert.equal(f.context?.rip, f.ip, `${th.role}: context rip = ip`);
      }
    }
    // The sleeping thread is blocked inside Thread.Sleep, called by SleepForever.
    const sleep = d.truth.threads.find((t) => t.role === "sleep");
    assert.ok(sleep);
    const names = stackOf(doc, sleep).frames.map((f) => methodOf(f.method?.signature)).filter((n) => n);
    assert.deepEqual(names.slice(0, 2), ["System.Threading.Thread.Sleep", "Hello.Program.SleepForever"]);
  });

  test("types: Hello.Program's MethodTable and methods agree with the stacks", () => {
    const types = clrmdOracle(d.core, "types", "Hello.Program", "No.Such.Type", "System.String", "System.Threading.Thread");
    const [hello, none, ...others] = types.result.types;
    // MethodTables against the target's own TypeHandle.Value, when its truth file has them.
    for (const t of [hello!, ...others]) {
      const expected = handles(d).methodTables[t.query];
      assert.equal(t.matches.length, 1, `${t.query}: ${JSON.stringify(t)}`);
      if (expected !== undefined) assert.equal(t.matches[0]!.methodTable, expected, `${t.query}: MethodTable`);
    }
    const byQuery = new Map(types.result.types.map((t) => [t.query, t.matches[0]]));
    assert.equal(byQuery.get("System.String")?.componentSize, 2);
    assert.equal(byQuery.get("System.String")?.parentName, "System.Object");
    assert.equal(none!.matches.length, 0);
    assert.ok(none!.error);
    assert.equal(hello!.matches.length, 1, JSON.stringify(hello));
    const mt = hello!.matches[0]!;
    assert.equal(mt.name, "Hello.Program");
    assert.equal(mt.parentName, "System.Object");
    assert.equal(mt.module?.name, d.dll);
    assert.match(mt.metadataToken, /^0x02[0-9a-f]{6}$/);
    const stacks = clrmdOracle(d.core, "stacks");
    for (const th of d.truth.threads.filter((t) => t.parkedIn.startsWith("Hello.Program."))) {
      const short = th.parkedIn.slice("Hello.Program.".length);
      const m = mt.methods.find((x) => x.name === short);
      assert.ok(m, `${short} not among Hello.Program's methods`);
      assert.equal(m.compilationType, "Jit", `${short} ran, so it was jitted`);
      const frame = stackOf(stacks, th).frames.find((f) => methodOf(f.method?.signature) === th.parkedIn);
      assert.ok(frame?.method);
      assert.equal(frame.method.methodDesc, m.methodDesc, `${short}: MethodDesc differs between stacks and types`);
      assert.equal(frame.method.metadataToken, m.metadataToken);
      assert.equal(frame.method.nativeCode, m.nativeCode);
      assert.equal(frame.method.typeMT, mt.methodTable);
      assert.ok(BigInt(frame.ip) > BigInt(m.nativeCode), `${short}: IP before the method's code`);
    }
  });

  test("modules: hello.dll and System.Private.CoreLib", () => {
    const doc = clrmdOracle(d.core, "modules");
    const mods = doc.result.modules;
    const hello = mods.find((m) => m.name === d.dll);
    assert.ok(hello, `${d.dll} not among ${mods.map((m) => m.name).join(", ")}`);
    assert.equal(hello.isPEFile, true);
    assert.equal(hello.isDynamic, false);
    assert.notEqual(hello.imageBase, "0x0");
    assert.ok(hello.metadataLength > 0);
    assert.ok(mods.some((m) => m.name === `${d.truth.runtimeDir}/System.Private.CoreLib.dll`));
    // The ELF side of the data target knows libcoreclr.so too.
    assert.ok(doc.result.dataTargetModules.some((m) => m.fileName === d.truth.libcoreclr));
  });

  test("heapstat and objects: a walkable heap, consistent counts, a readable Thread object", () => {
    const heap = clrmdOracle(d.core, "heapstat").result;
    assert.equal(heap.walkError, undefined);
    assert.ok(heap.totalObjects > 100, `only ${heap.totalObjects} objects`);
    assert.equal(heap.stats.reduce((n, s) => n + s.count, 0), heap.totalObjects);
    assert.equal(heap.stats.reduce((n, s) => n + s.totalSize, 0), heap.totalSize);
    const str = heap.stats.find((s) => s.name === "System.String");
    const thread = heap.stats.find((s) => s.name === "System.Threading.Thread");
    assert.ok(str && thread);
    assert.ok(thread.count >= d.truth.threads.length, `${thread.count} Thread objects`);
    const objs = clrmdOracle(d.core, "objects", str.firstObject, thread.firstObject, "0x10").result.objects;
    assert.equal(objs[0]!.type, "System.String");
    assert.equal(typeof objs[0]!.string, "string");
    assert.equal(objs[1]!.type, "System.Threading.Thread");
    const idField = objs[1]!.fields?.find((f) => f.name === "_managedThreadId");
    assert.ok(idField, JSON.stringify(objs[1]));
    assert.equal(idField.objectOffset, idField.offset + 8);
    const threads = clrmdOracle(d.core, "threads").result.threads;
    assert.ok(threads.some((t) => t.managedThreadId === idField.value), `no thread with managed id ${String(idField.value)}`);
    assert.equal(objs[2]!.valid, false);
    assert.ok(objs[2]!.error);
  });

  test("answers are cached beside the dump", () => {
    const file = clrmdOracleCacheFile(d.core, "threads");
    assert.ok(existsSync(file), file);
    assert.equal(dirname(file), dirname(d.core));
  });
});

describe("ClrMD oracle on createdump heap and mini dumps of test/targets/hello", { skip: noDotnet, timeout: 900_000 }, () => {
  for (const type of ["heap", "mini"] as const) {
    test(`${type} dump: every truth thread and its parked method`, () => {
      const dd = dotnetDump("hello", type);
      const threads = clrmdOracle(dd.core, "threads").result.threads;
      const stacks = clrmdOracle(dd.core, "stacks");
      for (const th of dd.truth.threads) {
        const t = threads.find((x) => x.osThreadId === th.osTid);
        assert.equal(t?.managedThreadId, th.managedId, `${th.role} (tid ${th.osTid})`);
        const names = stackOf(stacks, th).frames.map((f) => methodOf(f.method?.signature));
        assert.ok(names.includes(th.parkedIn), `${th.role}: ${th.parkedIn} not in ${names.join(", ")}`);
      }
      if (type === "heap") {
        const heap = clrmdOracle(dd.core, "heapstat").result;
        assert.ok(heap.totalObjects > 100, `heap dump: only ${heap.totalObjects} objects`);
      }
    });
  }
});
