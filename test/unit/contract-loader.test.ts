// The Loader contract on a synthetic runtime with layouts unlike any real one: the AppDomain's
// assembly list (an ArrayList of two blocks), assemblies, modules (paths, flags, lookup maps and
// the PE image layout), lookup maps of several segments with flag bits, and damaged lists
// (cycles, counts that lie, a DomainAssembly without Assembly, a Module that does not point back).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CorruptDataError } from "../../src/errors.js";
import { Loader, ModuleFlags } from "../../src/runtime/contracts/loader.js";
import { SyntheticRuntime, warningsOf } from "../support/descriptor-writer.js";

const MAPS = ["TypeDefToMethodTableMap", "TypeRefToMethodTableMap", "MethodDefToDescMap", "FieldDefToDescMap", "MemberRefToDescMap", "ManifestModuleReferencesMap"];

function declare(rt: SyntheticRuntime, opts: { ilVersioningMap?: boolean; friendlyName?: boolean; typeParams?: boolean } = {}): void {
  // The writer places the first declared field last: each block's array, and the inline first block with its array, end their structures.
  rt.type("ArrayListBlock", ["ArrayStart:inline:16", "Next", "Size:u32"]);
  rt.type("ArrayListBase", ["FirstBlock:ArrayListBlock", "Count:u32"]);
  rt.type("AppDomain", ["RootAssembly", "DomainAssemblyList:ArrayListBase", ...(opts.friendlyName === false ? [] : ["FriendlyName"])], { start: 0x45 });
  rt.type("LoaderAllocator", ["HighFrequencyHeap", "LowFrequencyHeap", "StubHeap"]);
  rt.type("SystemDomain", ["GlobalLoaderAllocator:LoaderAllocator"]);
  rt.type("ModuleLookupMap", ["TableData", "Next", "Count:u32", "SupportedFlagsMask:u64"]);
  rt.type("Assembly", ["Module", "IsCollectible:u8", "Level:u32", "NotifyFlags:u32", "Error"]);
  const moduleFields = ["Assembly", "PEAssembly", "Base", "Flags:u32", "LoaderAllocator", "ReadyToRunInfo", "Path", "FileName", "DynamicMetadata", ...MAPS.map((m) => `${m}:ModuleLookupMap`)];
  if (opts.ilVersioningMap !== false) moduleFields.push("MethodDefToILCodeVersioningStateMap:ModuleLookupMap");
  if (opts.typeParams) {
    moduleFields.push("AvailableTypeParams");
    // The hash table and, in the same type, its entries' fields (DacEnumerableHash), at odd offsets.
    rt.type("EETypeHashTable", { Buckets: [0x2b, "ptr"], Count: [0x11, "u32"], VolatileEntryValue: [0x1d, "ptr"], VolatileEntryNextEntry: [0x05, "ptr"] });
  }
  rt.type("Module", moduleFields, { start: 0x77 });
  rt.type("PEAssembly", ["PEImage"]);
  rt.type("PEImage", ["LoadedImageLayout"]);
  rt.type("PEImageLayout", ["Base", "Size:u32", "Flags:u32"]);
  rt.contract("Loader", 1);
}

/** A lookup map whose segments hold `segments` (raw values, flag bits included); returns the inline map's address. */
function lookupMap(rt: SyntheticRuntime, map: number, segments: (number | bigint)[][], mask: bigint): void {
  let segment = map;
  segments.forEach((values, i) => {
    const table = rt.memory.alloc(Math.max(8, values.length * 8), 8);
    values.forEach((v, j) => rt.memory.u64(table + j * 8, v));
    const next = i + 1 < segments.length ? rt.alloc("ModuleLookupMap") : 0;
    rt.fill(segment, "ModuleLookupMap", { TableData: table, Next: next, Count: values.length, SupportedFlagsMask: mask });
    segment = next;
  });
}

/** A runtime with three assemblies (the second slot of the list null), in an ArrayList of two blocks. */
function loaderRuntime(opts: { ilVersioningMap?: boolean; friendlyName?: boolean; typeParams?: boolean } = {}) {
  const rt = new SyntheticRuntime();
  declare(rt, opts);
  const domain = rt.alloc("AppDomain");
  const system = rt.alloc("SystemDomain");
  rt.variable("AppDomain", domain);
  rt.variable("SystemDomain", system);
  if (opts.friendlyName !== false) rt.set(domain, "AppDomain", "FriendlyName", rt.memory.utf16z("clrhost \u00e9\u4e2d"));
  const allocator = rt.at(system, "SystemDomain", "GlobalLoaderAllocator");
  rt.fill(allocator, "LoaderAllocator", { LowFrequencyHeap: 0x5a5a_aaaa_0010, HighFrequencyHeap: 0x5a5a_aaaa_0020, StubHeap: 0x5a5a_aaaa_0030 });

  const paths = ["/usr/share/dotnet/shared/Microsoft.NETCore.App/11.0.0/System.Private.CoreLib.dll", "", "/app/" + "verylongname".repeat(40) + ".dll"];
  const assemblies: number[] = [];
  const modules: number[] = [];
  const domainAssemblies: number[] = [];
  for (const [i, path] of paths.entries()) {
    const a = rt.alloc("Assembly");
    const m = rt.alloc("Module");
    rt.fill(a, "Assembly", { Module: m, IsCollectible: i === 2 ? 1 : 0, Level: i === 1 ? 3 : 6, NotifyFlags: 0x10 + i, Error: 0 });
    rt.fill(m, "Module", {
      Assembly: a, Base: i === 1 ? 0 : 0x5a5a_7000_0000 + i * 0x10000, LoaderAllocator: allocator,
      Flags: i === 1 ? ModuleFlags.ReflectionEmit | ModuleFlags.Tenured : ModuleFlags.Tenured,
      Path: path ? rt.memory.utf16z(path) : 0, FileName: path ? rt.memory.utf16z(path.split("/").pop()!) : 0,
    });
    for (const map of MAPS) lookupMap(rt, rt.at(m, "Module", map), [[0]], 0n);
    const da = rt.memory.alloc(32, 8);
    rt.memory.u64(da, a); // a DomainAssembly's first field is its Assembly
    assemblies.push(a);
    modules.push(m);
    domainAssemblies.push(da);
  }
  // Block 1 (inline): [da0, null]; block 2: [da1, da2, (unused)].
  const list = rt.at(domain, "AppDomain", "DomainAssemblyList");
  rt.set(list, "ArrayListBase", "Count", 4);
  const first = rt.at(list, "ArrayListBase", "FirstBlock");
  const second = rt.alloc("ArrayListBlock", 24, 8);
  rt.fill(first, "ArrayListBlock", { Next: second, Size: 2 });
  rt.memory.u64(rt.at(first, "ArrayListBlock", "ArrayStart"), domainAssemblies[0]!);
  rt.memory.u64(rt.at(first, "ArrayListBlock", "ArrayStart") + 8, 0);
  rt.fill(second, "ArrayListBlock", { Next: 0, Size: 3 });
  rt.memory.u64(rt.at(second, "ArrayListBlock", "ArrayStart"), domainAssemblies[1]!);
  rt.memory.u64(rt.at(second, "ArrayListBlock", "ArrayStart") + 8, domainAssemblies[2]!);
  return { rt, domain, system, allocator, assemblies, modules, domainAssemblies, paths, list, first, second };
}

describe("Loader contract", () => {
  test("the domain, its name and loader heaps; assemblies in list order across blocks, null slots skipped", () => {
    const { rt, domain, system, allocator, assemblies, modules } = loaderRuntime();
    const l = new Loader(rt.target());
    assert.equal(l.appDomain(), domain);
    assert.equal(l.systemDomain(), system);
    assert.equal(l.defaultDomainId(), 1, "no DefaultADID global: 1");
    assert.equal(l.appDomainFriendlyName(), "clrhost \u00e9\u4e2d");
    assert.equal(l.globalLoaderAllocator(), allocator);
    assert.deepEqual(l.loaderHeaps(allocator), { lowFrequency: 0x5a5a_aaaa_0010, highFrequency: 0x5a5a_aaaa_0020, stub: 0x5a5a_aaaa_0030 });
    const { value, warnings } = warningsOf(() => ({ assemblies: l.assemblies(), modules: l.moduleAddresses() }));
    assert.deepEqual(warnings, []);
    assert.deepEqual(value!.assemblies, assemblies);
    assert.deepEqual(value!.modules, modules);
    assert.deepEqual(l.assembly(assemblies[2]!), { address: assemblies[2], module: modules[2], isCollectible: true, level: 6, isLoaded: true, notifyFlags: 0x12, error: 0 });
    assert.equal(l.assembly(assemblies[1]!).isLoaded, false);
  });

  test("a module's fields: paths (long and empty), flags, base, maps at the descriptor's offsets", () => {
    const { rt, modules, assemblies, paths, allocator } = loaderRuntime();
    const l = new Loader(rt.target());
    const m = l.module(modules[2]!);
    assert.equal(m.path, paths[2]);
    assert.equal(m.fileName, paths[2]!.split("/").pop());
    assert.equal(m.assembly, assemblies[2]);
    assert.equal(m.loaderAllocator, allocator);
    assert.equal(m.base, 0x5a5a_7002_0000);
    assert.equal(m.image, undefined, "no PEAssembly: no image layout");
    assert.equal(m.maps.methodDefToDesc, rt.at(modules[2]!, "Module", "MethodDefToDescMap"));
    assert.equal(m.maps.methodDefToILCodeVersioningState, rt.at(modules[2]!, "Module", "MethodDefToILCodeVersioningStateMap"));
    const dynamic = l.module(modules[1]!);
    assert.deepEqual([dynamic.path, dynamic.base, dynamic.isReflectionEmit, dynamic.isTenured, dynamic.isEditAndContinue], ["", 0, true, true, false]);
  });

  test("absent optional fields: no FriendlyName is an empty name, no IL versioning map is undefined", () => {
    const { rt, modules } = loaderRuntime({ ilVersioningMap: false, friendlyName: false });
    const l = new Loader(rt.target());
    assert.equal(l.appDomainFriendlyName(), "");
    assert.equal(l.module(modules[0]!).maps.methodDefToILCodeVersioningState, undefined);
  });

  test("the PE image layout through PEAssembly -> PEImage -> loaded layout", () => {
    const { rt, modules } = loaderRuntime();
    const layout = rt.fill(rt.alloc("PEImageLayout"), "PEImageLayout", { Base: 0x5a5a_7000_0000, Size: 0xfff_f001, Flags: 1 });
    const image = rt.fill(rt.alloc("PEImage"), "PEImage", { LoadedImageLayout: layout });
    const pe = rt.fill(rt.alloc("PEAssembly"), "PEAssembly", { PEImage: image });
    rt.set(modules[0]!, "Module", "PEAssembly", pe);
    assert.deepEqual(new Loader(rt.target()).module(modules[0]!).image, { base: 0x5a5a_7000_0000, size: 0xfff_f001, flags: 1, mapped: true });
  });

  test("lookup maps: elements by RID across segments, flag bits split off, RID 0 and nulls left out of the entries", () => {
    const { rt, modules } = loaderRuntime();
    const map = rt.at(modules[0]!, "Module", "TypeDefToMethodTableMap");
    const mask = 0x3n;
    lookupMap(rt, map, [[0x5a5a_0001_0000n, 0, 0x5a5a_0002_0001n], [0x5a5a_0003_0002n], [], [0x5a5a_0004_0000n | 3n]], mask);
    const l = new Loader(rt.target());
    assert.equal(l.lookupMapTable(map), rt.memory.tryReadPointer(rt.at(map, "ModuleLookupMap", "TableData")));
    assert.deepEqual(l.lookupMapElement(map, 2), { value: 0x5a5a_0002_0000, flags: 1 });
    assert.deepEqual(l.lookupMapElement(map, 3), { value: 0x5a5a_0003_0000, flags: 2 });
    assert.deepEqual(l.lookupMapElement(map, 4), { value: 0x5a5a_0004_0000, flags: 3 });
    assert.deepEqual(l.lookupMapElement(map, 5), { value: 0, flags: 0 }, "past the last segment: none");
    assert.deepEqual(l.lookupMapEntries(map), [
      { rid: 2, value: 0x5a5a_0002_0000, flags: 1 },
      { rid: 3, value: 0x5a5a_0003_0000, flags: 2 },
      { rid: 4, value: 0x5a5a_0004_0000, flags: 3 },
    ]);
  });

  test("a lookup map whose segments loop: a typed error, not a hang", () => {
    const { rt, modules } = loaderRuntime();
    const map = rt.at(modules[0]!, "Module", "TypeDefToMethodTableMap");
    lookupMap(rt, map, [[0, 0x5a5a_0001_0000n]], 0n);
    rt.set(map, "ModuleLookupMap", "Next", map);
    assert.throws(() => new Loader(rt.target()).lookupMapEntries(map), CorruptDataError);
    assert.deepEqual(new Loader(rt.target()).lookupMapElement(map, 1), { value: 0x5a5a_0001_0000, flags: 0 });
  });

  test("damaged assembly lists: cycles and lying counts are typed errors; a null Assembly and a Module that does not point back are warnings", () => {
    const cyc = loaderRuntime();
    cyc.rt.set(cyc.second, "ArrayListBlock", "Next", cyc.first);
    cyc.rt.set(cyc.list, "ArrayListBase", "Count", 9);
    assert.throws(() => new Loader(cyc.rt.target()).assemblies(), (e: unknown) => e instanceof CorruptDataError && /cycle/.test(e.message));

    const short = loaderRuntime();
    short.rt.set(short.list, "ArrayListBase", "Count", 6);
    assert.throws(() => new Loader(short.rt.target()).assemblies(), (e: unknown) => e instanceof CorruptDataError && /6 elements claimed, 5 found/.test(e.message));
    short.rt.set(short.list, "ArrayListBase", "Count", 0x7fff_ffff);
    assert.throws(() => new Loader(short.rt.target()).assemblies(), (e: unknown) => e instanceof CorruptDataError && /claims/.test(e.message));

    const bad = loaderRuntime();
    bad.rt.memory.u64(bad.domainAssemblies[1]!, 0);
    bad.rt.set(bad.modules[2]!, "Module", "Assembly", bad.assemblies[0]!);
    const { value, warnings } = warningsOf(() => new Loader(bad.rt.target()).moduleAddresses());
    assert.deepEqual(value, [bad.modules[0], bad.modules[2]]);
    assert.ok(warnings.some((w) => /has no Assembly/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /does not point back at its assembly/.test(w)), warnings.join("\n"));
  });

  test("a module's constructed types (AvailableTypeParams): every chain read, hot-entry bits cleared, end sentinels and loops", () => {
    const { rt, modules } = loaderRuntime({ typeParams: true });
    const entry = (value: number | bigint, next: number | bigint): number => {
      const e = rt.memory.alloc(0x40, 8);
      rt.memory.u64(e + 0x1d, value);
      rt.memory.u64(e + 0x05, next);
      return e;
    };
    const sentinel = 0x5a5a_dead_0001n; // odd: ends a chain
    const c = entry(0x5a5a_0003_0000n, 0);
    const b = entry(0x5a5a_0002_0000n, sentinel);
    const a = entry(0x5a5a_0001_0000n | 1n, b); // a hot entry
    // Buckets: [chain count, next bucket array, end sentinel, chains...].
    const buckets = rt.memory.alloc(6 * 8, 8);
    [3n, 0n, sentinel, BigInt(a), sentinel, BigInt(c)].forEach((v, i) => rt.memory.u64(buckets + i * 8, v));
    const table = rt.memory.alloc(0x60, 8);
    rt.memory.u64(table + 0x2b, buckets);
    rt.memory.u32(table + 0x11, 3);
    rt.set(modules[0]!, "Module", "AvailableTypeParams", table);
    const l = new Loader(rt.target());
    assert.deepEqual(l.availableTypeParams(modules[0]!), [0x5a5a_0001_0000, 0x5a5a_0002_0000, 0x5a5a_0003_0000]);
    assert.deepEqual(l.availableTypeParams(modules[1]!), [], "no table: no types");
    rt.memory.u64(c + 0x05, c); // a chain that loops
    assert.throws(() => new Loader(rt.target()).availableTypeParams(modules[0]!), (e: unknown) => e instanceof CorruptDataError && /loops/.test(e.message));
    rt.memory.u64(buckets, 0x7fff_ffffn);
    assert.throws(() => new Loader(rt.target()).availableTypeParams(modules[0]!), (e: unknown) => e instanceof CorruptDataError && /buckets/.test(e.message));
    // A descriptor without the table (.NET 10): none.
    const old = loaderRuntime();
    assert.deepEqual(new Loader(old.rt.target()).availableTypeParams(old.modules[0]!), []);
  });
});
