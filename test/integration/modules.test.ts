// `modules`, `dumpdomain`, `dumpmodule` and `dumpil` on createdump dumps of test/targets/hello,
// against ClrMD's module list (the runtime's native DAC) and System.Reflection.Metadata's reading
// of hello.dll (the metadata oracle): the same modules, image bases, sizes and metadata
// locations; the same IL instructions for a method found through its MethodDesc.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runCli, runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import { runMetadataOracle } from "../support/metadata-oracle.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

function resultOf(core: string, command: string, extraArgs: string[] = []): any {
  const { docs, status, stderr } = runCliJson(core, [command], extraArgs);
  assert.equal(status, 0, stderr);
  const doc = docs.find((x) => x.command === command);
  assert.ok(doc, `no document for ${command}`);
  return doc.result;
}

const big = (h: string) => BigInt(h);

for (const type of ["full", "heap"] as const) {
  describe(`modules on a ${type} dump`, { skip, timeout: 900_000 }, () => {
    test("the managed module list equals ClrMD's (address, name, image base, size, metadata)", () => {
      const d = dotnetDump("hello", type);
      const ours = resultOf(d.core, "clrmodules").modules as { module: string; path: string; imageBase: string; imageSize: number; metadata: { address: string; size: number } | null }[];
      const theirs = clrmdOracle(d.core, "modules").result.modules;
      assert.ok(theirs.length >= 5, `ClrMD lists only ${theirs.length} modules`);
      const key = (x: { address: bigint; name: string; imageBase: bigint; size: number; md: bigint; mdSize: number }) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? "0x" + v.toString(16) : v));
      const expected = theirs.map((m) => key({ address: big(m.address), name: m.name ?? "", imageBase: big(m.imageBase), size: m.size, md: big(m.metadataAddress), mdSize: m.metadataLength })).sort();
      const got = ours.map((m) => key({ address: big(m.module), name: m.path, imageBase: big(m.imageBase), size: m.imageSize, md: m.metadata ? big(m.metadata.address) : 0n, mdSize: m.metadata?.size ?? 0 })).sort();
      assert.deepEqual(got, expected);
      assert.ok(ours.some((m) => m.path.endsWith("/hello.dll")), "hello.dll missing");
    });

    test("clrmodules text: one SOS line per managed module", () => {
      const d = dotnetDump("hello", type);
      const r = runCli(["analyze", d.core, "-c", "clrmodules"]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split("\n").filter((l) => /^[0-9A-F]{16} [0-9A-F]{8} \//.test(l));
      assert.equal(lines.length, clrmdOracle(d.core, "modules").result.modules.length);
    });
  });
}

describe("dumpdomain, dumpmodule and dumpil on a full dump", { skip, timeout: 900_000 }, () => {
  test("dumpdomain lists the System Domain and hello.dll and System.Private.CoreLib.dll in Domain 1", () => {
    const d = dotnetDump("hello", "full");
    const r = resultOf(d.core, "dumpdomain") as { domains: { kind: string; address: string; assemblies: { address: string; name: string; modules: { address: string; name: string }[] }[] }[] };
    assert.equal(r.domains[0]!.kind, "system");
    const app = r.domains.find((x) => x.kind === "app")!;
    const clrmd = clrmdOracle(d.core, "modules").result.modules;
    assert.equal(big(app.address), big(clrmd[0]!.appDomain!));
    for (const file of ["hello.dll", "System.Private.CoreLib.dll"]) {
      const asm = app.assemblies.find((a) => a.name.endsWith("/" + file));
      assert.ok(asm, `${file} missing from dumpdomain`);
      const theirs = clrmd.find((m) => m.name?.endsWith("/" + file))!;
      assert.equal(big(asm.address), big(theirs.assemblyAddress), `${file} assembly`);
      assert.equal(big(asm.modules[0]!.address), big(theirs.address), `${file} module`);
    }
    const text = runCli(["analyze", d.core, "-c", "dumpdomain"]).stdout;
    assert.match(text, /^System Domain: {6}[0-9a-f]{16}$/m);
    assert.match(text, /^Domain 1: {11}[0-9a-f]{16}$/m);
    assert.match(text, /^Assembly: {11}[0-9a-f]{16} \[\S+\/hello\.dll\]$/m);
  });

  test("dumpmodule of hello's module shows ClrMD's base and metadata", () => {
    const d = dotnetDump("hello", "full");
    const hello = clrmdOracle(d.core, "modules").result.modules.find((m) => m.name?.endsWith("/hello.dll"))!;
    assert.ok(hello, "ClrMD has no hello.dll");
    const r = resultOf(d.core, `dumpmodule -mt ${hello.address}`);
    assert.equal(r.name, hello.name);
    assert.equal(big(r.baseAddress), big(hello.imageBase));
    assert.equal(big(r.assembly), big(hello.assemblyAddress));
    assert.equal(big(r.loaderAllocator), big(hello.loaderAllocator));
    assert.equal(big(r.metadata.address), big(hello.metadataAddress));
    assert.equal(r.metadata.size, hello.metadataLength);
    // Hello.Program's MethodTable is loaded, so -mt lists it with the truth's MethodTable.
    const program = (r.typeDefs as { methodTable: string; name: string }[]).find((t) => t.name === "Hello.Program");
    assert.ok(program, "Hello.Program missing from dumpmodule -mt");
    const truthMt = d.truth.methodTables["Hello.Program"];
    if (truthMt) assert.equal(big(program.methodTable), big(truthMt));
    const text = runCli(["analyze", d.core, "-c", `dumpmodule ${hello.address}`]).stdout;
    assert.match(text, new RegExp(`^MetaData start address:  ${big(hello.metadataAddress).toString(16).toUpperCase().padStart(16, "0")} \\(${hello.metadataLength} bytes\\)$`, "m"));
  });

  // The contracts backend (.NET 10), the DAC forced on the same dump, and .NET 8 (DAC only):
  // each finds the IL through its own backend (Loader / GetILForModule).
  const variants: { label: string; framework?: string; args: string[] }[] = [
    { label: ".NET 10", args: [] },
    { label: ".NET 10, --backend dac", args: ["--backend", "dac"] },
    { label: ".NET 8, DAC", framework: "net8.0", args: [] },
  ];
  for (const v of variants) {
    test(`dumpil of SleepForever's MethodDesc shows the metadata oracle's instructions (${v.label})`, () => {
      const d = dotnetDump("hello", "full", v.framework);
      const md = d.truth.methodDescs["Hello.Program.SleepForever"]!;
      const r = resultOf(d.core, `dumpil ${md}`, v.args) as { token: string; rva: number; instructions: { offset: number; opcode: string }[]; lines: string[] };
      const oracle = runMetadataOracle(d.dll, { il: "all" });
      const row = oracle.methodDefs.find((x) => x[1] === "SleepForever")!;
      assert.ok(row, "the oracle has no SleepForever");
      assert.equal(Number(big(r.token)), row[0]);
      assert.equal(r.rva, row[2]);
      const body = oracle.bodies.find((b) => b.token === row[0])!;
      assert.ok(body && body.instructions.length >= 3, "the oracle has no body for SleepForever");
      assert.deepEqual(r.instructions.map((i) => [i.offset, i.opcode]), body.instructions.map(([o, name]) => [o, name]));
      assert.deepEqual(r.lines.map((l) => /^IL_([0-9a-f]{4}): (\S+)/.exec(l)!.slice(1)), body.instructions.map(([o, name]) => [o.toString(16).padStart(4, "0"), name]));
    });
  }
});
