// name2ee, dumpmt and dumpmd on createdump dumps of test/targets/hello, through data contracts
// only, against two oracles clrscope did not produce: the app's truth file (TypeHandle.Value and
// MethodHandle.Value it reported about itself) and ClrMD's view of the same MethodTables (the
// runtime's native DAC): base size, parent, token, EEClass-derived counts, and the MethodDesc
// table, each MethodDesc with its name, token and compilation state.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resultOf, runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import type { Name2eeResult } from "../../src/commands/sos/name2ee.js";
import type { DumpmtResult } from "../../src/commands/sos/dumpmt.js";
import type { DumpmdResult } from "../../src/commands/sos/dumpmd.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";


const big = (h: string) => BigInt(h);

/** "Hello.Program.SleepForever" -> "hello.dll!Hello.Program.SleepForever" */
const qualified = (name: string) => `hello.dll!${name}`;

for (const type of ["full", "heap"] as const) {
  describe(`name2ee, dumpmt and dumpmd on a ${type} dump`, { skip, timeout: 900_000 }, () => {
    test("name2ee finds the MethodTables and MethodDescs the process reported", () => {
      const d = dotnetDump("hello", type);
      const typeNames = Object.keys(d.truth.methodTables);
      const methodNames = Object.keys(d.truth.methodDescs);
      assert.ok(typeNames.includes("Hello.Program") && typeNames.includes("System.String") && typeNames.includes("System.Threading.Thread"));
      assert.ok(methodNames.length >= 5, `only ${methodNames.length} methods in the truth file`);
      const commands = [...typeNames.map((n) => `name2ee * ${n}`), ...methodNames.map((n) => `name2ee ${qualified(n)}`), "name2ee hello Hello.Program"];
      const { docs, status, stderr } = runCliJson(d.core, commands);
      assert.equal(status, 0, stderr);
      for (const n of typeNames) {
        // As SOS: every loaded type whose name contains the query; the type itself is one of them.
        const r = resultOf<Name2eeResult>(docs, `name2ee * ${n}`);
        const m = r.matches.find((x) => x.kind === "type" && x.name === n);
        assert.ok(m, `${n}: ${JSON.stringify(r.matches)}`);
        assert.equal(big(m.methodTable), big(d.truth.methodTables[n]!), `${n}: MethodTable`);
        assert.equal(m.assembly, n.startsWith("Hello.") ? "hello.dll" : "System.Private.CoreLib.dll");
        assert.match(m.token, /^0x2[0-9a-f]{6}$/);
        assert.ok(r.modulesScanned > 2, `${n}: '*' scanned ${r.modulesScanned} modules`);
      }
      for (const n of methodNames) {
        const r = resultOf<Name2eeResult>(docs, `name2ee ${qualified(n)}`);
        assert.equal(r.modulesScanned, 1);
        assert.equal(r.matches.length, 1, `${n}: ${JSON.stringify(r.matches)}`);
        const m = r.matches[0]!;
        assert.equal(m.kind, "method");
        assert.ok(m.methodDesc, `${n}: no MethodDesc`);
        assert.equal(big(m.methodDesc), big(d.truth.methodDescs[n]!), `${n}: MethodDesc`);
        assert.ok(m.name.startsWith(`${n}(`), `${n}: named ${m.name}`);
        assert.ok(m.codeAddress, `${n}: a parked method has run, so it has code`);
      }
      const short = resultOf<Name2eeResult>(docs, "name2ee hello Hello.Program");
      assert.equal(big(short.matches.find((x) => x.name === "Hello.Program")!.methodTable), big(d.truth.methodTables["Hello.Program"]!));
    });

    test("dumpmt -md equals ClrMD's MethodTable facts and methods", () => {
      const d = dotnetDump("hello", type);
      const mts = Object.values(d.truth.methodTables);
      const { docs, status, stderr } = runCliJson(d.core, mts.map((mt) => `dumpmt -md ${mt}`));
      assert.equal(status, 0, stderr);
      const oracle = clrmdOracle(d.core, "types", ...mts).result.types;
      let methods = 0;
      for (const mt of mts) {
        const ours = resultOf<DumpmtResult>(docs, `dumpmt -md ${mt}`);
        const q = oracle.find((x) => x.query === mt);
        assert.ok(q && q.matches.length === 1, `ClrMD has no type at ${mt}: ${JSON.stringify(q)}`);
        const theirs = q.matches[0]!;
        assert.equal(big(ours.methodTable), big(theirs.methodTable));
        assert.equal(ours.name, theirs.name, `${mt}: name`);
        assert.equal(ours.baseSize, theirs.baseSize, `${theirs.name}: BaseSize`);
        assert.equal(ours.componentSize, theirs.componentSize, `${theirs.name}: ComponentSize`);
        assert.equal(big(ours.parent), big(theirs.parentMT ?? "0x0"), `${theirs.name}: parent`);
        assert.equal(big(ours.token), big(theirs.metadataToken), `${theirs.name}: token`);
        assert.equal(big(ours.module), big(theirs.module!.address), `${theirs.name}: module`);
        assert.equal(ours.containsGCPointers, theirs.containsPointers, `${theirs.name}: GC pointers`);
        // ClrMD lists the interfaces it resolves from metadata; the runtime's map holds every one implemented.
        assert.ok(ours.numInterfaces >= theirs.interfaces.length, `${theirs.name}: ${ours.numInterfaces} interfaces, ClrMD lists ${theirs.interfaces.length}`);
        const expected = theirs.methods.map((m) => ({
          methodDesc: big(m.methodDesc),
          name: m.signature,
          token: big(m.metadataToken),
          jit: m.compilationType === "Jit" ? "JIT" : m.compilationType === "Ngen" ? "PreJIT" : "NONE",
        }));
        // ClrMD lists the slots with an entry point; SOS (and clrscope) every slot.
        const got = ours.methods!.filter((m) => big(m.entry) !== 0n).map((m) => ({
          methodDesc: big(m.methodDesc),
          name: m.name,
          token: big(m.token),
          jit: m.jit,
        }));
        // The same methods as ClrMD (the DAC's slot enumerator), with the same names, tokens and JIT state, in the same order.
        assert.deepEqual(got, expected, `${theirs.name}: MethodDesc table`);
        // Jitted methods: the native code ClrMD reports.
        for (const m of theirs.methods.filter((x) => x.compilationType === "Jit")) {
          const row = ours.methods!.find((x) => big(x.methodDesc) === big(m.methodDesc))!;
          assert.equal(big(row.nativeCode), big(m.nativeCode), `${m.signature}: native code`);
        }
        methods += expected.length;
      }
      assert.ok(methods >= 20, `only ${methods} methods compared`);
    });

    test("dumpmd of each reported MethodDesc names the method, its token and MethodTable", () => {
      const d = dotnetDump("hello", type);
      const mds = Object.entries(d.truth.methodDescs);
      const programMT = d.truth.methodTables["Hello.Program"]!;
      const { docs, status, stderr } = runCliJson(d.core, [...mds.map(([, md]) => `dumpmd ${md}`), `dumpmt ${programMT}`]);
      assert.equal(status, 0, stderr);
      const program = resultOf<DumpmtResult>(docs, `dumpmt ${programMT}`);
      const oracle = clrmdOracle(d.core, "types", programMT).result.types[0]!.matches[0]!;
      for (const [name, md] of mds) {
        const r = resultOf<DumpmdResult>(docs, `dumpmd ${md}`);
        const theirs = oracle.methods.find((m) => big(m.methodDesc) === big(md));
        assert.ok(theirs, `ClrMD does not list ${name} (${md}) on Hello.Program`);
        assert.ok(r.name.startsWith(`${name}(`), `${md}: named ${r.name}`);
        assert.equal(r.name, theirs.signature);
        assert.equal(big(r.token), big(theirs.metadataToken), `${name}: token`);
        assert.equal(big(r.methodTable), big(programMT), `${name}: MethodTable`);
        assert.equal(big(r.eeClass), big(program.eeClass), `${name}: EEClass`);
        assert.equal(big(r.module), big(oracle.module!.address), `${name}: module`);
        assert.equal(r.isJitted, theirs.compilationType !== "None", `${name}: IsJitted`);
        if (theirs.compilationType === "Jit") assert.equal(big(r.codeAddress), big(theirs.nativeCode), `${name}: code`);
      }
    });

    test("bad input: not a MethodTable, not a MethodDesc, no such module", () => {
      const d = dotnetDump("hello", type);
      const { docs } = runCliJson(d.core, ["dumpmt 0x1000", "dumpmd 0x1000", "name2ee nosuch.dll Hello.Program"]);
      assert.match(docs.find((x) => x.command === "dumpmt 0x1000")!.error!.message, /is not a MethodTable/);
      assert.match(docs.find((x) => x.command === "dumpmd 0x1000")!.error!.message, /is not a MethodDesc/);
      assert.match(docs.find((x) => x.command === "name2ee nosuch.dll Hello.Program")!.error!.message, /Failed to find module matching 'nosuch.dll'/);
    });
  });
}
