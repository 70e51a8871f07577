// The contracts backend on other runtime versions: test/targets/hello published self-contained
// for .NET 9 and .NET 8 (runtime packs from NuGet), dumped with that runtime's createdump.
// .NET 9 publishes a data-contract descriptor with only some contracts (no ExecutionManager):
// clrthreads works from the Thread contract and is checked against the truth file; commands
// that need a missing contract say which part of the descriptor is missing. .NET 8 publishes no
// descriptor at all: clrthreads comes from its DAC (checked against the truth file), commands
// that need the descriptor say so. On both, name2ee, dumpmd and pe answer through the DAC
// (src/commands/sos/type-source.ts) and are checked against the truth file too.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DumpmdResult } from "../../src/commands/sos/dumpmd.js";
import type { Name2eeResult } from "../../src/commands/sos/name2ee.js";
import type { PrintexceptionResult } from "../../src/commands/sos/printexception.js";
import { resultOf, runCliJson } from "../support/cli.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

describe(".NET 9 (self-contained hello)", { skip, timeout: 900_000 }, () => {
  test("clrthreads matches the truth file; clrstack, lacking the ExecutionManager contract, walks through the DAC", () => {
    const d = dotnetDump("hello", "full", "net9.0");
    assert.match(d.truth.runtimeVersion, /^9\./);
    const { docs } = runCliJson(d.core, ["runtime", "clrthreads", `setthread -t ${d.truth.threads[1]!.osTid}`, "clrstack"]);
    const rt = docs.find((x) => x.command === "runtime")!.result;
    assert.deepEqual(rt.contracts.map((c: { name: string }) => c.name).includes("ExecutionManager"), false);
    const threads = docs.find((x) => x.command === "clrthreads")!.result.threads as { osId: number; managedId: number; background: boolean; threadPoolWorker: boolean }[];
    for (const th of d.truth.threads) {
      const t = threads.find((x) => x.osId === th.osTid);
      assert.ok(t, `${th.role} (tid ${th.osTid}) not in clrthreads`);
      assert.equal(t.managedId, th.managedId);
      assert.equal(t.background, th.isBackground);
      assert.equal(t.threadPoolWorker, th.isThreadPool);
    }
    // The descriptor cannot drive the walk (no ExecutionManagerCodeRangeMapAddress): the DAC walks (frames checked in clrstack-values.test.ts).
    const stack = docs.find((x) => x.command === "clrstack")!;
    assert.equal(stack.error, undefined);
    assert.equal(stack.result.walker, "dac");
  });
});

describe(".NET 8 (self-contained hello)", { skip, timeout: 900_000 }, () => {
  test("no data-contract descriptor: clrthreads comes from the runtime's DAC and matches the truth file; descriptor-only commands say why", () => {
    const d = dotnetDump("hello", "full", "net8.0");
    assert.match(d.truth.runtimeVersion, /^8\./);
    const { docs } = runCliJson(d.core, ["clrthreads", "clrstack", "thread list", "runtime"]);
    const rt = docs.find((x) => x.command === "runtime")!.result as { backend: string; dac: { active: boolean; path: string; version: string } };
    assert.equal(rt.backend, "dac");
    assert.equal(rt.dac.active, true);
    assert.equal(rt.dac.path, `${d.truth.runtimeDir}/libmscordaccore.so`);
    assert.ok(rt.dac.version.startsWith(d.truth.runtimeVersion.split(".").slice(0, 2).join(".") + "."), rt.dac.version);
    const ct = docs.find((x) => x.command === "clrthreads")!.result as { backend: string; threads: { osId: number; managedId: number; background: boolean; threadPoolWorker: boolean }[] };
    assert.equal(ct.backend, "dac");
    for (const th of d.truth.threads) {
      const t = ct.threads.find((x) => x.osId === th.osTid);
      assert.ok(t, `${th.role} (tid ${th.osTid}) not in clrthreads`);
      assert.equal(t.managedId, th.managedId);
      assert.equal(t.background, th.isBackground);
      assert.equal(t.threadPoolWorker, th.isThreadPool);
    }
    // No descriptor: the DAC walks the stacks (frames checked in clrstack-values.test.ts).
    const cs = docs.find((x) => x.command === "clrstack")!;
    assert.equal(cs.error, undefined);
    assert.equal(cs.result.walker, "dac");
    const tids = (docs.find((x) => x.command === "thread list")!.result.threads as { tid: number }[]).map((t) => t.tid);
    for (const th of d.truth.threads) assert.ok(tids.includes(th.osTid));
  });
});

for (const framework of ["net9.0", "net8.0"]) {
  describe(`${framework} hello: type commands and pe through the DAC`, { skip, timeout: 900_000 }, () => {
    test("name2ee finds the reported MethodTables and MethodDescs; dumpmd names them; pe shows the pinned exception and its inner one", () => {
      const d = dotnetDump("hello", "full", framework);
      const types = Object.entries(d.truth.methodTables);
      const methods = Object.entries(d.truth.methodDescs);
      const e = d.truth.objects.exception;
      const commands = [
        ...types.map(([name]) => `name2ee *!${name}`),
        ...methods.map(([name]) => `name2ee hello.dll!${name}`),
        ...methods.map(([, md]) => `dumpmd ${md}`),
        `pe ${e.address}`,
      ];
      const { docs } = runCliJson(d.core, commands);
      for (const [name, mt] of types) {
        const r = resultOf<Name2eeResult>(docs, `name2ee *!${name}`);
        assert.equal(r.backend, "dac");
        // As SOS: every loaded type whose name contains the query; the type itself is one of them.
        const match = r.matches.find((m) => m.kind === "type" && m.name === name);
        assert.ok(match, `${name}: ${JSON.stringify(r.matches)}`);
        assert.equal(BigInt(match.methodTable), BigInt(mt), name);
      }
      for (const [name, md] of methods) {
        const r = resultOf<Name2eeResult>(docs, `name2ee hello.dll!${name}`);
        assert.equal(r.matches.length, 1, `${name}: ${JSON.stringify(r.matches)}`);
        assert.equal(BigInt(r.matches[0]!.methodDesc!), BigInt(md), name);
        const dumpmd = resultOf<DumpmdResult>(docs, `dumpmd ${md}`);
        assert.ok(dumpmd.name.startsWith(`${name}(`), `${dumpmd.name} is not ${name}`);
        assert.equal(dumpmd.name, r.matches[0]!.name);
      }
      const pe = resultOf<PrintexceptionResult>(docs, `pe ${e.address}`);
      assert.equal(pe.type, e.type);
      assert.equal(pe.message, e.message);
      assert.equal(pe.hResult, e.hResult);
      assert.equal(pe.innerException?.type, e.innerType);
      const inner = resultOf<PrintexceptionResult>(runCliJson(d.core, [`pe ${pe.innerException!.address}`]).docs, `pe ${pe.innerException!.address}`);
      assert.equal(inner.message, e.innerMessage);
    });
  });
}
