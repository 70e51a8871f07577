// Golden tests of the dumpdomain, dumpmodule, modules/lm and clrmodules renderers on hand-written results, in
// SOS's layout (dotnet-dump 10.0.750501). Lines marked "SOS" are copied verbatim from dotnet-dump's
// answers on the scenarios dump (~/.cache/clrscope-tests/dotnet-dump/*/core.sos-*.json); the others
// push the layout with unusual values (dynamic modules, empty names and lists, a two-digit domain
// id, the largest addresses and sizes, names that need escaping). No dump is needed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapeForTerminal } from "../../src/cli/terminal-text.js";
import { dumpDomain, type DomainBlock } from "../../src/commands/sos/dumpdomain.js";
import { dumpModule, type DumpModuleResult } from "../../src/commands/sos/dumpmodule.js";
import { clrModules, type ModuleRow } from "../../src/commands/sos/clrmodules.js";
import { modules } from "../../src/commands/sos/modules.js";

const NETCORE = "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12";
const BUILD = "/root/.cache/clrscope-tests/dotnet-build/ff5d1b82b335f9f8/bin";

describe("dumpdomain renderer", () => {
  const heaps = { lowFrequencyHeap: "0x7f9ef64cce20", highFrequencyHeap: "0x7f9ef64cce98", stubHeap: "0x7f9ef64ccf10", stage: "OPEN" };
  const system: DomainBlock = { kind: "system", address: "0x7f9ef64cce00", ...heaps, name: "", assemblies: [] };

  test("the System Domain, then the AppDomain with its assemblies and modules, as SOS", () => {
    const app: DomainBlock = {
      kind: "app", address: "0x55e355c05920", id: 1, ...heaps, name: "clrhost",
      assemblies: [
        { address: "0x55e355c2fcd0", name: `${NETCORE}/System.Private.CoreLib.dll`, isDynamic: false, modules: [{ address: "0x7f9e76e54000", name: `${NETCORE}/System.Private.CoreLib.dll` }] },
        { address: "0x55e355c41b80", name: `${BUILD}/scenarios.dll`, isDynamic: false, modules: [{ address: "0x7f9e77f41a30", name: `${BUILD}/scenarios.dll` }] },
      ],
    };
    assert.equal(dumpDomain.render({ domains: [system, app], backend: "contracts" }), [
      "--------------------------------------", // SOS, and every line below
      "System Domain:      00007f9ef64cce00",
      "LowFrequencyHeap:   00007F9EF64CCE20",
      "HighFrequencyHeap:  00007F9EF64CCE98",
      "StubHeap:           00007F9EF64CCF10",
      "Stage:              OPEN",
      "Name:               None",
      "--------------------------------------",
      "Domain 1:           000055e355c05920",
      "LowFrequencyHeap:   00007F9EF64CCE20",
      "HighFrequencyHeap:  00007F9EF64CCE98",
      "StubHeap:           00007F9EF64CCF10",
      "Stage:              OPEN",
      "Name:               clrhost",
      `Assembly:           000055e355c2fcd0 [${NETCORE}/System.Private.CoreLib.dll]`,
      "  Module",
      `  00007f9e76e54000    ${NETCORE}/System.Private.CoreLib.dll`,
      "",
      `Assembly:           000055e355c41b80 [${BUILD}/scenarios.dll]`,
      "  Module",
      `  00007f9e77f41a30    ${BUILD}/scenarios.dll`,
      "",
    ].join("\n"));
  });

  test("a dynamic assembly, an assembly without module, a domain id of two digits, a name that needs escaping, zero heaps", () => {
    const app: DomainBlock = {
      kind: "app", address: "0x1fffffffffffff", id: 12, lowFrequencyHeap: "0x0", highFrequencyHeap: "0x0", stubHeap: "0x0", stage: "OPEN", name: "host\u001b]0;pwned\u0007",
      assemblies: [
        { address: "0x7f00000000f0", name: "", isDynamic: true, modules: [{ address: "0x7f0000000100", name: "Dynamic Module" }] },
        { address: "0x7f0000000200", name: "", isDynamic: true, modules: [] },
      ],
    };
    assert.equal(escapeForTerminal(dumpDomain.render({ domains: [app] })), [
      "--------------------------------------",
      "Domain 12:          001fffffffffffff",
      "LowFrequencyHeap:   0000000000000000",
      "HighFrequencyHeap:  0000000000000000",
      "StubHeap:           0000000000000000",
      "Stage:              OPEN",
      "Name:               host\\x1b]0;pwned\\x07",
      "Assembly:           00007f00000000f0 (Dynamic) []",
      "  Module",
      "  00007f0000000100    Dynamic Module",
      "",
      "Assembly:           00007f0000000200 (Dynamic) []",
      "  Module",
      "",
    ].join("\n"));
    assert.equal(dumpDomain.render({ domains: [] }), "");
  });
});

describe("dumpmodule renderer", () => {
  const scenarios: DumpModuleResult = {
    address: "0x7f9e77f41a30", name: `${BUILD}/scenarios.dll`, attributes: ["PEFile", "IsFileLayout"], assembly: "0x55e355c41b80", peAssembly: "0x55e355c41000",
    baseAddress: "0x7f9e75e02000", loaderAllocator: "0x7f9ef64cce10", typeDefToMethodTableMap: "0x7f9e77f178b8", typeRefToMethodTableMap: "0x7f9e77f179e8",
    methodDefToDescMap: "0x7f9e77f18870", fieldDefToDescMap: "0x7f9e77f18f38", memberRefToDescMap: "0x7f9e77f17d38", fileReferencesMap: "0x0",
    assemblyReferencesMap: "0x7f9e77f19530", flags: 0x1, readyToRunInfo: "0x0", metadata: { address: "0x7f9e75e05ec8", size: 30024 }, backend: "contracts",
  };
  const sosHead = [
    `Name: ${BUILD}/scenarios.dll`, // SOS, and every line below
    "Attributes:              PEFile IsFileLayout ",
    "Assembly:                000055e355c41b80",
    "BaseAddress:             00007F9E75E02000",
    "LoaderHeap:              00007F9EF64CCE10",
    "TypeDefToMethodTableMap: 00007F9E77F178B8",
    "TypeRefToMethodTableMap: 00007F9E77F179E8",
    "MethodDefToDescMap:      00007F9E77F18870",
    "FieldDefToDescMap:       00007F9E77F18F38",
    "MemberRefToDescMap:      00007F9E77F17D38",
    "FileReferencesMap:       0000000000000000",
    "AssemblyReferencesMap:   00007F9E77F19530",
    "MetaData start address:  00007F9E75E05EC8 (30024 bytes)",
  ];

  test("a module's header as SOS", () => {
    assert.equal(dumpModule.render(scenarios), sosHead.join("\n"));
  });

  test("-mt: defined and referenced types; both tokens printed as TypeDefs (0x02...), as SOS does", () => {
    const r: DumpModuleResult = {
      ...scenarios,
      typeDefs: [
        { methodTable: "0x7f9e78804ed8", token: "0x2000002", name: "<>f__AnonymousType0`2" },
        { methodTable: "0x7f9e7817dae8", token: "0x2ffffff", name: "Scenarios.Outer+Inner`1+" + "Deep".repeat(64) },
      ],
      typeRefs: [{ methodTable: "0x7f9e78955730", token: "0x1000010", name: "System.Runtime.CompilerServices.CompilerGeneratedAttribute" }],
    };
    assert.equal(dumpModule.render(r), [
      ...sosHead,
      "",
      "Types defined in this module",
      "",
      "              MT          TypeDef Name",
      "------------------------------------------------------------------------------",
      "00007f9e78804ed8 0x02000002 <>f__AnonymousType0`2", // SOS
      `00007f9e7817dae8 0x02ffffff Scenarios.Outer+Inner\`1+${"Deep".repeat(64)}`,
      "",
      "Types referenced in this module",
      "",
      "              MT            TypeRef Name", // SOS
      "------------------------------------------------------------------------------",
      "00007f9e78955730 0x02000010 System.Runtime.CompilerServices.CompilerGeneratedAttribute", // SOS
    ].join("\n"));
    assert.ok(dumpModule.render({ ...scenarios, typeDefs: [], typeRefs: [] }).endsWith("Name\n------------------------------------------------------------------------------"));
  });

  test("a dynamic module: no name, no base address and so no metadata line", () => {
    const r: DumpModuleResult = { ...scenarios, name: "", attributes: ["Reflection", "IsDynamic"], baseAddress: "0x0", metadata: null };
    const lines = dumpModule.render(r).split("\n");
    assert.deepEqual(lines.slice(0, 4), ["Name: Unknown Module", "Attributes:              Reflection IsDynamic ", "Assembly:                000055e355c41b80", "BaseAddress:             0000000000000000"]);
    assert.equal(lines.length, 12);
  });
});

describe("modules / lm renderer (every mapped image)", () => {
  test("base, size and path of each image by address, then the total, as SOS; with -a no total", () => {
    const images = [
      { index: 0, base: 0x55e325818000, size: 0x14000, path: "/usr/share/dotnet/dotnet", kind: "elf" as const },
      { index: 1, base: 0x7f927e800000, size: 0xf28800, path: `${NETCORE}/System.Private.CoreLib.dll`, kind: "pe" as const },
      { index: 2, base: 0x1fffffffff0000, size: 0xffffffff, path: "/tmp/odd\u001b[0mname.so", kind: "elf" as const },
    ];
    assert.equal(escapeForTerminal(modules.render({ images, totalImageSize: 38422528 })), [
      "000055E325818000 00014000 /usr/share/dotnet/dotnet", // SOS
      `00007F927E800000 00F28800 ${NETCORE}/System.Private.CoreLib.dll`, // SOS
      "001FFFFFFFFF0000 FFFFFFFF /tmp/odd\\x1b[0mname.so",
      "Total image size: 38422528", // SOS
    ].join("\n"));
    assert.equal(modules.render({ images: images.slice(1, 2), totalImageSize: 38422528, address: 0x7f927e800010 }), `00007F927E800000 00F28800 ${NETCORE}/System.Private.CoreLib.dll`);
    assert.equal(modules.render({ images: [], totalImageSize: 0 }), "Total image size: 0");
  });
});

describe("clrmodules renderer (managed modules)", () => {
  const row = (over: Partial<ModuleRow>): ModuleRow => ({
    index: 0, module: "0x7f9e76e54000", assembly: "0x55e355c2fcd0", path: `${NETCORE}/System.Private.CoreLib.dll`, fileName: "System.Private.CoreLib.dll",
    imageBase: "0x7f9e76e70000", imageSize: 0xf28800, isFileLayout: false, isDynamic: false, metadata: { address: "0x7f9e7768faf0", size: 3341888 }, ...over,
  });

  test("one line per module in load order: base, size, path, as SOS; dynamic modules marked; no total", () => {
    const r = { modules: [row({}), row({ index: 1, path: `${BUILD}/scenarios.dll`, imageBase: "0x7f9e75e02000", imageSize: 0xbe00 }), row({ index: 2, path: "", isDynamic: true, imageBase: "0x0", imageSize: 0 }), row({ index: 3, path: "", imageBase: "0x1fffffffffffff", imageSize: 0xffffffff })], totalImageSize: 15_960_064 };
    assert.equal(clrModules.render(r), [
      `00007F9E76E70000 00F28800 ${NETCORE}/System.Private.CoreLib.dll`, // SOS
      `00007F9E75E02000 0000BE00 ${BUILD}/scenarios.dll`, // SOS
      "0000000000000000 00000000 (Dynamic)",
      "001FFFFFFFFFFFFF FFFFFFFF ",
    ].join("\n"));
    assert.equal(clrModules.render({ modules: [], totalImageSize: 0 }), "");
  });

  test("-v: a block per module with where its pages came from, then the total", () => {
    const r = { modules: [row({ pages: { dump: 3, file: 0x3e0, missing: 1 } }), row({ index: 7, path: "", isDynamic: true, isFileLayout: null, metadata: null, pages: { dump: 0, file: 0, missing: 0 } })], totalImageSize: 1 };
    assert.equal(clrModules.render(r), [
      `0 ${NETCORE}/System.Private.CoreLib.dll`,
      "    Address:         00007F9E76E70000",
      "    ImageSize:       00F28800",
      "    IsPEImage:       True",
      "    IsManaged:       True",
      "    IsFileLayout:    False",
      "    Module:          00007F9E76E54000",
      "    Assembly:        000055E355C2FCD0",
      "    MetaData:        00007F9E7768FAF0 (3341888 bytes)",
      "    Pages:           3 in the dump, 992 from the file on disk, 1 missing",
      "7 Dynamic Module",
      "    Address:         00007F9E76E70000",
      "    ImageSize:       00F28800",
      "    IsPEImage:       False",
      "    IsManaged:       True",
      "    IsFileLayout:    <unknown>",
      "    Module:          00007F9E76E54000",
      "    Assembly:        000055E355C2FCD0",
      "    MetaData:        <none>",
      "    Pages:           none",
      "Total image size: 1",
    ].join("\n"));
  });
});
