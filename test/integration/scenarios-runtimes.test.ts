// test/targets/scenarios on the other runtimes the machine can run: published self-contained for
// .NET 9 (a descriptor without ExecutionManager, the Loader's assembly list or the MethodDesc
// chunk layout) and .NET 8 (no descriptor), dumped full with that runtime's createdump. The type
// commands answer there through the runtime's DAC; every answer is checked against the app's truth
// file (the addresses it read from TypeHandle/MethodHandle, SOS names it built by reflection).
// On .NET 10 the DAC's answers (`--backend dac`) are compared with the contracts backend's.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DumpmdResult } from "../../src/commands/sos/dumpmd.js";
import type { DumpmtResult } from "../../src/commands/sos/dumpmt.js";
import type { DumpobjResult } from "../../src/commands/sos/dumpobj.js";
import type { Ip2mdResult } from "../../src/commands/sos/ip2md.js";
import type { Name2eeResult } from "../../src/commands/sos/name2ee.js";
import { dacNameToClrmd } from "../../src/metadata/type-names.js";
import type { PrintexceptionResult } from "../../src/commands/sos/printexception.js";
import type { RuntimeInfoResult } from "../../src/commands/runtime-info.js";
import type { DumpDomainResult } from "../../src/commands/sos/dumpdomain.js";
import type { DumpModuleResult } from "../../src/commands/sos/dumpmodule.js";
import type { ModulesResult } from "../../src/commands/sos/clrmodules.js";
import { statSync } from "node:fs";
import { resultOf, runCli, runCliJson, type CliDoc } from "../support/cli.js";
import { hasDotnet, scenarioDump, type ScenarioTruth } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";
const big = (h: string) => BigInt(h);

/** Types name2ee can look up by metadata name (no instantiation, no array): the app's own, nested ones too. */
function namedTypes(truth: ScenarioTruth) {
  return [...truth.methodTables.filter((e) => !e.name.includes("`") && !e.name.endsWith("]") && e.name.startsWith("Scenarios.")), ...truth.typicalMethodTables];
}

/** Methods with a unique, non-generic name: name2ee Type.Method finds exactly them. */
function namedMethods(truth: ScenarioTruth) {
  return truth.methodDescs.filter((m) => /^Scenarios\.[A-Za-z.]+\(/.test(m.name));
}

const dumpmtCommand = (e: { methodTable: string }) => `dumpmt -md ${e.methodTable}`;

/** The commands whose answers the tests check, for one dump. */
function typeCommands(truth: ScenarioTruth): string[] {
  const methodDescs = [...truth.methodDescs, ...truth.typicalMethodDescs, ...(truth.dynamicMethod.methodDesc ? [{ name: truth.dynamicMethod.name, methodDesc: truth.dynamicMethod.methodDesc }] : [])];
  return [
    ...[...truth.methodTables, ...truth.typicalMethodTables].map(dumpmtCommand),
    ...methodDescs.map((e) => `dumpmd ${e.methodDesc}`),
    ...namedTypes(truth).map((e) => `name2ee scenarios.dll!${e.name}`),
    ...namedMethods(truth).map((m) => `name2ee scenarios.dll!${m.name.slice(0, m.name.indexOf("("))}`),
    `pe ${truth.exception.address}`,
    `do ${truth.exception.address}`,
  ];
}

function checkAgainstTruth(truth: ScenarioTruth, docs: CliDoc[], backend: "contracts" | "dac"): void {
  for (const e of [...truth.methodTables, ...truth.typicalMethodTables]) {
    const r = resultOf<DumpmtResult>(docs, dumpmtCommand(e));
    assert.equal(r.backend, backend);
    assert.equal(r.name, e.name, `${e.methodTable}: name`);
    assert.equal(big(r.methodTable), big(e.methodTable));
  }
  const methodDescs = [...truth.methodDescs, ...truth.typicalMethodDescs];
  assert.ok(truth.dynamicMethod.methodDesc, "the app could not read its DynamicMethod's MethodDesc");
  methodDescs.push({ name: truth.dynamicMethod.name, methodDesc: truth.dynamicMethod.methodDesc });
  for (const e of methodDescs) {
    const r = resultOf<DumpmdResult>(docs, `dumpmd ${e.methodDesc}`);
    assert.equal(r.backend, backend);
    assert.equal(r.name, e.name, `${e.methodDesc}: name`);
    // The method's type: its MethodTable is one dumpmt names (the canonical form for shared code).
    assert.notEqual(big(r.methodTable), 0n);
  }
  assert.equal(resultOf<DumpmdResult>(docs, `dumpmd ${truth.dynamicMethod.methodDesc}`).classification, "Dynamic");
  for (const e of namedTypes(truth)) {
    // As SOS: every loaded type whose (ClrMD) name contains the query; the type itself is one of them.
    const r = resultOf<Name2eeResult>(docs, `name2ee scenarios.dll!${e.name}`);
    const match = r.matches.find((m) => m.kind === "type" && m.name === dacNameToClrmd(e.name));
    assert.ok(match, `${e.name}: ${JSON.stringify(r.matches)}`);
    assert.equal(big(match.methodTable), big(e.methodTable), `${e.name}: MethodTable`);
  }
  const named = namedMethods(truth);
  assert.ok(named.length >= 3, JSON.stringify(named));
  for (const m of named) {
    const r = resultOf<Name2eeResult>(docs, `name2ee scenarios.dll!${m.name.slice(0, m.name.indexOf("("))}`);
    assert.equal(r.matches.length, 1, `${m.name}: ${JSON.stringify(r.matches)}`);
    assert.equal(big(r.matches[0]!.methodDesc!), big(m.methodDesc), `${m.name}: MethodDesc`);
    assert.equal(r.matches[0]!.name, m.name);
    // The method's type lists it in its MethodDesc table, under the same name.
    const owner = resultOf<DumpmdResult>(docs, `dumpmd ${m.methodDesc}`);
    assert.ok(big(owner.codeAddress) !== 0n, `${m.name} is parked in, so it has code`);
  }
  const pe = resultOf<PrintexceptionResult>(docs, `pe ${truth.exception.address}`);
  assert.equal(pe.type, truth.exception.type);
  assert.equal(pe.message, truth.exception.message);
  const obj = resultOf<DumpobjResult>(docs, `do ${truth.exception.address}`);
  assert.equal(obj.name, truth.exception.type);
  const message = obj.fields?.find((f) => f.name === "_message");
  assert.equal(message?.string, truth.exception.message);
}

for (const framework of ["net9.0", "net8.0"]) {
  describe(`scenarios on ${framework} (self-contained, full dump)`, { skip, timeout: 900_000 }, () => {
    test("runtime says the type commands answer through the DAC, and why", () => {
      const d = scenarioDump("full", framework);
      assert.equal(d.truth.runtimeVersion.split(".")[0], framework.slice(3, 4));
      const { docs, status, stderr } = runCliJson(d.core, ["runtime"]);
      assert.equal(status, 0, stderr);
      // (clrthreads and clrstack on these dumps: scenarios-threads.test.ts.)
      const rt = resultOf<RuntimeInfoResult>(docs, "runtime");
      assert.deepEqual(Object.keys(rt.typeCommands), ["backend", "reason"]);
      assert.equal("backend" in rt.typeCommands && rt.typeCommands.backend, "dac");
      assert.match("reason" in rt.typeCommands ? rt.typeCommands.reason! : "", framework === "net8.0" ? /exports no DotNetRuntimeContractDescriptor/ : /data descriptor has no/);
    });

    test("dumpmt -md, dumpmd, name2ee, pe and do through the DAC: addresses and names equal the truth file's", () => {
      const d = scenarioDump("full", framework);
      const { docs } = runCliJson(d.core, typeCommands(d.truth));
      checkAgainstTruth(d.truth, docs, "dac");
    });

    test("modules, dumpdomain and dumpmodule -mt through the DAC: the process's module paths, file sizes and types", () => {
      const d = scenarioDump("full", framework);
      const leaf = d.truth.methodTables.find((e) => e.name === "Scenarios.Outer+Leaf")!;
      const first = runCliJson(d.core, [`dumpmt ${leaf.methodTable}`]).docs;
      const module = resultOf<DumpmtResult>(first, `dumpmt ${leaf.methodTable}`).module;
      const { docs, status, stderr } = runCliJson(d.core, ["clrmodules", "dumpdomain", `dumpmodule -mt ${module}`]);
      assert.equal(status, 0, stderr);
      const modules = resultOf<ModulesResult>(docs, "clrmodules");
      assert.equal(modules.backend, "dac");
      for (const p of Object.values(d.truth.modules)) assert.ok(modules.modules.some((m) => m.path === p), `${p} not among the modules`);
      // A flat (file-layout) image is as long as its file on disk.
      const flat = modules.modules.filter((m) => m.isFileLayout === true);
      assert.ok(flat.length >= 3, JSON.stringify(modules.modules.map((m) => [m.fileName, m.isFileLayout])));
      for (const m of flat) assert.equal(m.imageSize, statSync(m.path).size, `${m.fileName}: image size`);
      const domain = resultOf<DumpDomainResult>(docs, "dumpdomain").domains.find((x) => x.kind === "app")!;
      assert.deepEqual(domain.assemblies.map((a) => a.name), modules.modules.map((m) => m.path));
      assert.equal(domain.stage, "OPEN");
      const dm = resultOf<DumpModuleResult>(docs, `dumpmodule -mt ${module}`);
      assert.equal(dm.name, d.truth.modules["scenarios"]);
      for (const e of namedTypes(d.truth)) {
        const row = dm.typeDefs!.find((t) => big(t.methodTable) === big(e.methodTable));
        assert.ok(row, `${e.name} not among the module's types`);
        assert.equal(row.name, e.name);
      }
    });

    test("precompiled CoreLib code: dumpmt -md's PreJIT methods lie in CoreLib's image and ip2md maps them back", () => {
      const d = scenarioDump("full", framework);
      const first = runCliJson(d.core, ["name2ee System.Private.CoreLib.dll!System.String", "clrmodules"]).docs;
      const string = resultOf<Name2eeResult>(first, "name2ee System.Private.CoreLib.dll!System.String").matches[0]!.methodTable!;
      const corelib = resultOf<ModulesResult>(first, "clrmodules").modules.find((m) => m.path === d.truth.modules["System.Private.CoreLib"])!;
      const { docs } = runCliJson(d.core, [`dumpmt -md ${string}`]);
      const table = resultOf<DumpmtResult>(docs, `dumpmt -md ${string}`);
      assert.equal(table.name, "System.String");
      const prejit = table.methods!.filter((m) => m.jit === "PreJIT").slice(0, 10);
      assert.ok(prejit.length >= 5, `only ${prejit.length} precompiled methods`);
      for (const m of prejit) {
        const code = big(m.nativeCode);
        assert.ok(code >= big(corelib.imageBase) && code < big(corelib.imageBase) + BigInt(corelib.imageSize), `${m.name}: code outside CoreLib's image`);
      }
      const ips = prejit.map((m) => `ip2md 0x${(big(m.nativeCode) + 1n).toString(16)}`);
      const back = runCliJson(d.core, ips).docs;
      prejit.forEach((m, i) => {
        const r = resultOf<Ip2mdResult>(back, ips[i]!);
        assert.equal(big(r.methodDesc), big(m.methodDesc), `${m.name}: ip2md`);
        assert.equal(r.codeKind, "readytorun");
        assert.equal(r.offset, 1);
        assert.equal(r.name, m.name);
      });
    });

    test("ip2md maps each parked method's code back to its MethodDesc; dumpmt -md lists the parked methods", () => {
      const d = scenarioDump("full", framework);
      const named = namedMethods(d.truth);
      const first = runCliJson(d.core, named.map((m) => `dumpmd ${m.methodDesc}`)).docs;
      const code = named.map((m) => resultOf<DumpmdResult>(first, `dumpmd ${m.methodDesc}`));
      const commands = [...code.map((c) => `ip2md ${c.codeAddress}`), ...[...new Set(code.map((c) => c.methodTable))].map((mt) => `dumpmt -md ${mt}`)];
      const { docs, status, stderr } = runCliJson(d.core, commands);
      assert.equal(status, 0, stderr);
      named.forEach((m, i) => {
        const r = resultOf<Ip2mdResult>(docs, `ip2md ${code[i]!.codeAddress}`);
        assert.equal(big(r.methodDesc), big(m.methodDesc), `${m.name}: ip2md`);
        assert.equal(r.name, m.name);
        assert.equal(r.offset, 0);
        assert.equal(r.codeKind, "jit");
        const table = resultOf<DumpmtResult>(docs, `dumpmt -md ${code[i]!.methodTable}`).methods!;
        const row = table.find((x) => big(x.methodDesc) === big(m.methodDesc));
        assert.ok(row, `${m.name} not in its type's MethodDesc table`);
        assert.equal(row.name, m.name);
        assert.equal(row.jit, "JIT");
        assert.equal(big(row.nativeCode), big(code[i]!.codeAddress));
      });
    });
  });
}

describe("backend agreement on .NET 10 (scenarios, full dump)", { skip, timeout: 900_000 }, () => {
  test("the DAC's answers to the type commands equal the contracts backend's", () => {
    const d = scenarioDump("full");
    const commands = typeCommands(d.truth);
    const named = namedMethods(d.truth);
    // Left to choose (auto), clrscope answers the type commands from the contracts on .NET 10, and
    // asks the DAC only for what the descriptor lacks (tiers, fields): those are compared too.
    const contracts = runCliJson(d.core, [...commands, ...named.map((m) => `dumpmd ${m.methodDesc}`), "runtime"]).docs;
    assert.deepEqual(resultOf<RuntimeInfoResult>(contracts, "runtime").typeCommands, { backend: "contracts" });
    // ip2md at each parked method's code start, as the contracts backend reports it.
    const ips = named.map((m) => resultOf<DumpmdResult>(contracts, `dumpmd ${m.methodDesc}`).codeAddress);
    const all = [...commands, ...ips.map((ip) => `ip2md ${ip}`)];
    const ours = runCliJson(d.core, ips.map((ip) => `ip2md ${ip}`)).docs;
    const scenariosModule = resultOf<DumpmtResult>(contracts, dumpmtCommand(d.truth.methodTables.find((e) => e.name === "Scenarios.Outer+Leaf")!)).module;
    const corelibModule = resultOf<DumpmtResult>(contracts, dumpmtCommand(d.truth.methodTables.find((e) => e.name === "System.String[]")!)).module;
    const loaderCommands = ["clrmodules", "dumpdomain", `dumpmodule -mt ${scenariosModule}`, `dumpmodule -mt ${corelibModule}`];
    const loaderDocs = runCliJson(d.core, loaderCommands, ["--backend", "contracts"]).docs;
    const dac = runCliJson(d.core, [...all, ...loaderCommands], ["--backend", "dac"]).docs;
    checkAgainstTruth(d.truth, contracts, "contracts");
    checkAgainstTruth(d.truth, dac, "dac");
    // Canonical MethodTables of the methods' types, for the DAC's Class (below).
    const owners = [...new Set(all.filter((c) => c.startsWith("dumpmd") || c.startsWith("ip2md")).map((c) => resultOf<DumpmdResult>(dac, c).methodTable))];
    const ownerDocs = runCliJson(d.core, owners.map((mt) => `dumpmt ${mt}`), ["--backend", "contracts"]).docs;
    const canonicalOf = (mt: string) => resultOf<DumpmtResult>(ownerDocs, `dumpmt ${mt}`).canonical ?? mt;
    let compared = 0;
    for (const c of [...all, ...loaderCommands]) {
      const a = structuredClone(resultOf(c.startsWith("ip2md") ? ours : loaderCommands.includes(c) ? loaderDocs : contracts, c)) as Record<string, unknown>;
      const b = structuredClone(resultOf(dac, c)) as Record<string, unknown>;
      for (const r of [a, b]) {
        delete r.backend;
        delete r.fieldsNote;
        delete r.fieldsSource;
        // Notes name what each source lacks (e.g. the descriptor's missing tier fields); the
        // versions themselves, tiers included, must agree.
        delete r.versionNotes;
      }
      const unavailable = (b.unavailable as string[] | undefined) ?? [];
      delete b.unavailable;
      // The DAC has no ReadyToRunInfo; the app is not precompiled (0 for the contracts too), CoreLib is.
      if (c === `dumpmodule -mt ${scenariosModule}`) assert.equal(a.readyToRunInfo, "0x0");
      if (c === `dumpmodule -mt ${corelibModule}`) assert.notEqual(a.readyToRunInfo, "0x0");
      if (unavailable.includes("eeClass")) {
        // The .NET 9+ DAC reports the canonical MethodTable where the EEClass was (SOS prints it too).
        const canonical = c.startsWith("dumpmt") ? ((a.canonical as string | undefined) ?? (a.methodTable as string)) : canonicalOf(a.methodTable as string);
        assert.equal(big(b.eeClass as string), big(canonical), `${c}: the DAC's Class is the canonical MethodTable`);
        delete a.eeClass;
        delete b.eeClass;
      }
      for (const k of unavailable) {
        if (k === "eeClass") continue;
        assert.ok(k in a, `${c}: ${k}`);
        delete a[k];
        delete b[k];
      }
      if (c.startsWith("do ") && big(b.eeClass as string) !== big(a.eeClass as string)) {
        // dumpobj through the .NET 10 DAC shows its Class too: the canonical MethodTable.
        assert.equal(big(b.eeClass as string), big((a.canonicalMethodTable as string | undefined) ?? (a.methodTable as string)), `${c}: EEClass`);
        delete a.eeClass;
        delete b.eeClass;
      }
      if (c.startsWith("name2ee")) {
        for (const m of b.matches as { eeClass?: string; methodTable?: string; unavailable?: string[] }[]) {
          if (m.eeClass === undefined) continue;
          assert.deepEqual(m.unavailable, ["eeClass"], c);
          assert.equal(m.eeClass, m.methodTable, `${c}: a canonical type's Class is its MethodTable`);
          delete m.unavailable;
        }
        for (const m of [...(a.matches as { eeClass?: string }[]), ...(b.matches as { eeClass?: string }[])]) delete m.eeClass;
      }
      assert.deepEqual(b, a, c);
      compared++;
    }
    assert.ok(compared >= 40, `only ${compared} commands compared`);
  });
});

describe("--backend", { skip, timeout: 900_000 }, () => {
  test("an unknown backend is a usage error; --backend contracts on .NET 8 says the descriptor is missing", () => {
    const d = scenarioDump("full", "net8.0");
    const bad = runCli(["analyze", d.core, "--backend", "cdac", "-c", "clrmodules"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--backend cdac: use auto, contracts or dac/);
    const { docs } = runCliJson(d.core, ["clrmodules"], ["--backend", "contracts"]);
    const doc = docs.find((x) => x.command === "clrmodules")!;
    assert.equal(doc.error?.code, "no-runtime");
    assert.match(doc.error!.message, /DotNetRuntimeContractDescriptor/);
  });

  test("--backend contracts never starts nor asks the DAC: no tiers, no DAC fields", () => {
    const d = scenarioDump("full");
    const method = namedMethods(d.truth)[0]!;
    const { docs, status, stderr } = runCliJson(d.core, ["runtime", `dumpmd ${method.methodDesc}`], ["--backend", "contracts"]);
    assert.equal(status, 0, stderr);
    const info = resultOf<RuntimeInfoResult>(docs, "runtime");
    assert.deepEqual(info.dac, { active: false, error: "--backend contracts disables the DAC" });
    assert.equal(info.requestedBackend, "contracts");
    const md = resultOf<DumpmdResult>(docs, `dumpmd ${method.methodDesc}`);
    assert.equal(md.backend, "contracts");
    // .NET 10's descriptor publishes no tiers: without the DAC they are unknown, and the notes say why.
    assert.equal(md.tierSource, null);
    assert.ok(md.versionNotes.some((n) => n.includes("--backend contracts")), md.versionNotes.join("; "));
  });
});
