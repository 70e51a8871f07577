// Names of generic instantiations, nested types, arrays, generic method instantiations and a
// DynamicMethod on createdump dumps of test/targets/scenarios: dumpmt, dumpmd and name2ee against
// the app's truth file (TypeHandle.Value / MethodHandle.Value it reported, names it built from
// reflection with SOS's rules in SosNames.cs) and ClrMD (the runtime's DAC: its method signatures
// are the DAC's names; its type names are ClrMD's C#-like form of the DAC's, see type-names.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DumpmdResult } from "../../src/commands/sos/dumpmd.js";
import type { DumpmtResult } from "../../src/commands/sos/dumpmt.js";
import type { DumpobjResult } from "../../src/commands/sos/dumpobj.js";
import type { ModulesResult } from "../../src/commands/sos/clrmodules.js";
import type { Name2eeResult } from "../../src/commands/sos/name2ee.js";
import { dacNameToClrmd } from "../../src/metadata/type-names.js";
import { resultOf, runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { hasDotnet, scenarioDump } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";
const big = (h: string) => BigInt(h);

for (const type of ["full", "heap"] as const) {
  describe(`scenario type and method names on a ${type} dump`, { skip, timeout: 900_000 }, () => {
    test("dumpmt names generic instantiations, nested types and arrays as the process does", () => {
      const d = scenarioDump(type);
      const entries = [...d.truth.methodTables, ...d.truth.typicalMethodTables];
      assert.ok(entries.some((e) => e.name.includes("`2[[")) && entries.some((e) => e.name.endsWith("[,]")) && entries.some((e) => e.name.includes("+")));
      const { docs, status, stderr } = runCliJson(d.core, entries.map((e) => `dumpmt ${e.methodTable}`));
      assert.equal(status, 0, stderr);
      const oracle = clrmdOracle(d.core, "types", ...entries.map((e) => e.methodTable)).result.types;
      for (const e of entries) {
        const r = resultOf<DumpmtResult>(docs, `dumpmt ${e.methodTable}`);
        assert.equal(r.name, e.name, `${e.methodTable}: name`);
        // ClrMD prints the DAC's name in its own form (List<T> style): the same name once converted.
        const theirs = oracle.find((x) => x.query === e.methodTable)!.matches[0]!;
        assert.equal(dacNameToClrmd(r.name), theirs.name, `${e.name}: ClrMD's name`);
      }
    });

    test("dumpmt -md of generic instantiations: every method named as the DAC names it", () => {
      const d = scenarioDump(type);
      const generic = d.truth.methodTables.filter((e) => e.name.includes("`") && !e.name.endsWith("[]"));
      assert.ok(generic.length >= 5, JSON.stringify(generic));
      const { docs, status, stderr } = runCliJson(d.core, generic.map((e) => `dumpmt -md ${e.methodTable}`));
      assert.equal(status, 0, stderr);
      const oracle = clrmdOracle(d.core, "types", ...generic.map((e) => e.methodTable)).result.types;
      let methods = 0;
      for (const e of generic) {
        // ClrMD lists the slots with an entry point; SOS (and clrscope) every slot.
        const ours = resultOf<DumpmtResult>(docs, `dumpmt -md ${e.methodTable}`).methods!.filter((m) => big(m.entry) !== 0n);
        const theirs = oracle.find((x) => x.query === e.methodTable)!.matches[0]!.methods;
        // The same rows; ClrMD lists them in slot order, SOS in the DAC slot enumerator's (the
        // type's vtable, then its methods in MethodDesc chunk order: scenarios-runtimes.test.ts
        // checks that order against the DAC).
        const rows = (list: [bigint, string | null][]) => list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : String(x[1]).localeCompare(String(y[1]))));
        assert.deepEqual(rows(ours.map((m) => [big(m.methodDesc), m.name])), rows(theirs.map((m) => [big(m.methodDesc), m.signature])), `${e.name}: MethodDesc table`);
        methods += ours.length;
      }
      assert.ok(methods >= 30, `only ${methods} methods compared`);
    });

    test("dumpmd of generic method instantiations, the generic definition and the DynamicMethod", () => {
      const d = scenarioDump(type);
      const entries = [...d.truth.methodDescs, ...d.truth.typicalMethodDescs];
      const dynamic = d.truth.dynamicMethod;
      assert.ok(dynamic.methodDesc, "the app could not read its DynamicMethod's MethodDesc");
      entries.push({ name: dynamic.name, methodDesc: dynamic.methodDesc });
      const { docs, status, stderr } = runCliJson(d.core, entries.map((e) => `dumpmd ${e.methodDesc}`));
      assert.equal(status, 0, stderr);
      for (const e of entries) {
        const r = resultOf<DumpmdResult>(docs, `dumpmd ${e.methodDesc}`);
        assert.equal(r.name, e.name, `${e.methodDesc}: name`);
      }
      const classification = (name: string) => resultOf<DumpmdResult>(docs, `dumpmd ${entries.find((e) => e.name === name)!.methodDesc}`).classification;
      assert.equal(classification(dynamic.name), "Dynamic");
      assert.equal(classification(d.truth.typicalMethodDescs[0]!.name), "Instantiated");
    });

    test("name2ee finds nested and generic types and methods at the reported addresses", () => {
      const d = scenarioDump(type);
      const leaf = d.truth.methodTables.find((e) => e.name === "Scenarios.Outer+Leaf")!;
      const typicalTypes = d.truth.typicalMethodTables;
      const park = d.truth.typicalMethodDescs[0]!;
      const sleep = d.truth.methodDescs.find((m) => m.name.startsWith("Scenarios.Parking.SleepWithArgs("))!;
      const commands = [
        `name2ee scenarios.dll ${leaf.name}`,
        ...typicalTypes.map((t) => `name2ee scenarios.dll ${t.name}`),
        "name2ee scenarios.dll!Scenarios.Outer+Inner`1.Park",
        "name2ee scenarios.dll!Scenarios.Parking.SleepWithArgs",
      ];
      const { docs, status, stderr } = runCliJson(d.core, commands);
      assert.equal(status, 0, stderr);
      const only = (c: string) => {
        const r = resultOf<Name2eeResult>(docs, c);
        assert.equal(r.matches.length, 1, `${c}: ${JSON.stringify(r.matches)}`);
        return r.matches[0]!;
      };
      const l = only(commands[0]!);
      assert.equal(big(l.methodTable!), big(leaf.methodTable));
      assert.equal(l.name, leaf.name);
      typicalTypes.forEach((t, i) => {
        // The runtime's name of a generic definition finds it (clrscope's addition to SOS's name2ee), named as ClrMD does.
        const m = only(commands[1 + i]!);
        assert.equal(big(m.methodTable!), big(t.methodTable), `${t.name}: MethodTable`);
        assert.equal(m.name, dacNameToClrmd(t.name));
      });
      const p = only("name2ee scenarios.dll!Scenarios.Outer+Inner`1.Park");
      assert.equal(big(p.methodDesc!), big(park.methodDesc));
      assert.equal(p.name, park.name);
      const s = only("name2ee scenarios.dll!Scenarios.Parking.SleepWithArgs");
      assert.equal(big(s.methodDesc!), big(sleep.methodDesc));
      assert.equal(s.name, sleep.name);
    });

    test("the truth file's object counts hold in the dump (ClrMD's heap walk), for a later dumpheap", () => {
      const d = scenarioDump(type);
      const heap = clrmdOracle(d.core, "heapstat").result;
      assert.ok(heap.canWalkHeap);
      assert.ok(d.truth.objectCounts.length >= 10);
      for (const c of d.truth.objectCounts) {
        const entry = heap.stats.find((t) => big(t.methodTable) === big(c.methodTable));
        assert.equal(entry?.count ?? 0, c.count, `${c.name}: live objects`);
      }
    });

    test("modules and dumpmt give the module paths the process reported", () => {
      const d = scenarioDump(type);
      const list = d.truth.methodTables.find((e) => e.name.startsWith("System.Collections.Generic.List`1[[Scenarios."))!;
      const leaf = d.truth.methodTables.find((e) => e.name === "Scenarios.Outer+Leaf")!;
      const { docs, status, stderr } = runCliJson(d.core, ["clrmodules", `dumpmt ${list.methodTable}`, `dumpmt ${leaf.methodTable}`]);
      assert.equal(status, 0, stderr);
      const paths = resultOf<ModulesResult>(docs, "clrmodules").modules.map((m) => m.path);
      for (const p of Object.values(d.truth.modules)) assert.ok(paths.includes(p), `${p} not among ${JSON.stringify(paths)}`);
      // A generic instantiation over the app's type lives in the generic definition's module.
      assert.equal(resultOf<DumpmtResult>(docs, `dumpmt ${list.methodTable}`).file, d.truth.modules["System.Private.CoreLib"]);
      assert.equal(resultOf<DumpmtResult>(docs, `dumpmt ${leaf.methodTable}`).file, d.truth.modules["scenarios"]);
    });

    test("dumpobj names the pinned exception's type", () => {
      const d = scenarioDump(type);
      const { docs, status, stderr } = runCliJson(d.core, [`dumpobj ${d.truth.exception.address}`]);
      assert.equal(status, 0, stderr);
      const r = resultOf<DumpobjResult>(docs, `dumpobj ${d.truth.exception.address}`);
      assert.equal(r.name, d.truth.exception.type);
    });
  });
}
