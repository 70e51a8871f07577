// Where dumpmt, dumpmd, name2ee, ip2md and the loader commands (modules, dumpdomain, dumpmodule)
// get their data: the contracts backend when this runtime's descriptor publishes what they read,
// else the runtime's DAC (ISOSDacInterface). Both answer in the same shapes (model.ts), so the
// commands render one SOS layout whichever backend answered; `analyze --backend dac|contracts`
// forces one (agreement tests).
import { ClrscopeError, CommandError, MemoryNotInDump, tryOrUndefined } from "../errors.js";
import { MissingRuntimeDataError } from "./contracts/descriptor.js";
import type { MetadataReader } from "../metadata/metadata.js";
import { T, token, tokenRid, tokenTable } from "../metadata/tables.js";
import { dacMethodName, genericParam } from "../metadata/type-names.js";
import type { ClrRuntime, MethodCodeVersions } from "./clr-runtime.js";
import type { DacRuntime } from "./dac/dac-runtime.js";
import { DAC_JIT_TYPES, DAC_OPTIMIZATION_TIERS } from "./dac/sos-dac.js";
import type { ManagedNames } from "./managed-names.js";
import { NoRuntimeError } from "./open-runtime.js";
import { hex as hexAddress } from "../hex.js";
import type { NativeProcess } from "../native/process.js";
import { fileNameOf } from "../native/modules.js";
import { MAX_METHODS_PER_TYPE } from "../limits.js";
import type { BackendChoice, BackendName, DomainSummary, ManagedModuleSummary, ModuleDetails, ModuleTypeEntry } from "./model.js";
import { dacDomainSummaries, dacModuleDetails, dacModuleSummaries } from "./dac-loader.js";
import { SourceLines, type ManagedModuleRef } from "./source-lines.js";

/** How SOS classifies a method's code: JIT'd, ReadyToRun ("PreJIT"), an FCall into libcoreclr, or none. */
export type JitKind = "JIT" | "PreJIT" | "FCALL" | "NONE";

export interface SourceMethodTable {
  address: number;
  module: number;
  eeClass: number;
  /** Set when this MethodTable is not canonical (a non-canonical generic instantiation). */
  canonical?: number;
  parent: number;
  /** TypeDef token, 0 for arrays. */
  token: number;
  /** MethodTable.BaseSize as stored. */
  rawBaseSize: number;
  /** BaseSize as SOS shows it: the terminating NUL char taken off System.String's. */
  baseSize: number;
  componentSize: number;
  containsGCPointers: boolean;
  isFree: boolean;
  numMethods: number;
  numInterfaces: number;
  /** `eeClass` holds the canonical MethodTable: the DAC of .NET 9+ reports that in place of the EEClass. */
  eeClassIsCanonicalMethodTable: boolean;
  /**
   * The runtime (.NET 9+) hands SOS the canonical MethodTable where it used to hand the EEClass
   * (SOS's PreferCanonMTOverEEClass): SOS's dumpmt then prints `Canonical:` (only when it is not
   * the MethodTable itself) instead of `EEClass:`, and dumpmd prints it as `Class:`.
   */
  prefersCanonicalMethodTable: boolean;
  /** null where this backend does not say (the DAC reports 0 vtable counts since .NET 9; collectibility needs ISOSDacInterface6). */
  isCollectible: boolean | null;
  numVirtuals: number | null;
  numVtableSlots: number | null;
}

export interface SourceMethodDesc {
  address: number;
  methodTable: number;
  module: number;
  token: number;
  slot: number;
  /** Native code, 0 when none. */
  nativeCode: number;
  /** MethodDesc classification (IL, FCall, ...); null where the backend does not say. */
  classification: string | null;
  isStatic: boolean | null;
}

export interface SourceSlot {
  slot: number;
  /** 0 while the runtime has given the slot no entry point. */
  entry: number;
  /** 0 when the slot has no MethodDesc yet (SOS then names the method by token and module). */
  methodDesc: number;
  /** MethodDef token and module of the slot's method, where the backend gives them (the DAC's slot enumerator). */
  token?: number;
  definingModule?: number;
}

export interface SourceCodeBlock {
  methodDesc: number;
  start: number;
  offset: number;
  kind: "jit" | "readytorun";
}

export interface SourceModule {
  address: number;
  path: string;
  /** File name of the module (the path's last part). */
  fileName: string;
}

/** A method's code versions as dumpmd shows them, with where the tiers come from and what is missing. */
export interface CodeVersionHistory {
  versions?: MethodCodeVersions;
  /** Tiers the versions lack, by "rejitId:node", from the DAC. */
  dacTiers: Map<string, string>;
  tierSource: "descriptor" | "dac" | null;
  notes: string[];
}

export interface TypeSource {
  backend: BackendName;
  /** Why the contracts backend was not used (absent when it was, or when the DAC was asked for). */
  reason?: string;
  /** Every managed module of the AppDomain, in load order. */
  moduleSummaries(): ManagedModuleSummary[];
  /** The System Domain and the AppDomain with its assemblies. */
  domains(): DomainSummary[];
  /** A Module's details; `withTypes`: its loaded TypeDefs and TypeRefs. Throws ClrscopeError when `address` is not a Module. */
  moduleDetails(address: number, withTypes: boolean): ModuleDetails;
  /** A method's IL and native code versions with their tiers (the active IL version first). */
  codeVersionHistory(methodDesc: number): CodeVersionHistory;
  methodTable(address: number): SourceMethodTable;
  methodDesc(address: number): SourceMethodDesc;
  /** SOS's type name ("Name:"), undefined when it cannot be named. */
  typeName(methodTable: number): string | undefined;
  /** SOS's method name with parameter types (GetMethodDescName's form). */
  methodSignature(methodDesc: number): string;
  modulePath(module: number): string;
  moduleMetadata(module: number): MetadataReader | undefined;
  /** Address of the IL at `rva` in a module's loaded image (0: not loaded). */
  ilAddress(module: number, rva: number): number;
  /** The AppDomain's modules in load order. */
  modules(): SourceModule[];
  /** The loaded MethodTable of a TypeDef / MethodDesc of a MethodDef (0: not loaded). */
  typeDefMethodTable(module: number, rid: number): number;
  methodDefDesc(module: number, rid: number): number;
  /** The module's loaded types: TypeDefToMethodTableMap's entries with a MethodTable, by TypeDef rid. */
  typeDefMethodTables(module: number): { rid: number; methodTable: number }[];
  /** SOS's MethodDesc table: slots with an entry point, vtable slots first, then the type's own. */
  slots(methodTable: number): SourceSlot[];
  codeBlock(ip: number): SourceCodeBlock | undefined;
  jitKind(nativeCode: number, module: number): JitKind;
  /**
   * The managed AssemblyLoadContext object of a MethodTable's module (SOS's dumpmt
   * `AssemblyLoadContext:`): 0 while the runtime has not created it; undefined when unknown.
   */
  assemblyLoadContext(methodTable: number): number | undefined;
  /**
   * Source file and line of a code address in a module's method (SOS's ip2md `Source file:`): the
   * IL offset the JIT mapped to the address, then the module's portable PDB. Undefined when
   * either is unknown.
   */
  sourceLine(ip: number, module: number): { file: string; line: number } | undefined;
}

/** CLRDATA_IL_OFFSET_PROLOG (xclrdata.idl). */
const IL_OFFSET_PROLOG = -2;

/**
 * A code address's source line through the DAC's IL map (IXCLRDataMethodInstance) and the module's
 * portable PDB; `image`: the module's image base and path.
 */
function dacSourceLine(lines: SourceLines, dac: DacRuntime, ip: number, image: ManagedModuleRef): { file: string; line: number } | undefined {
  const map = tryOrUndefined(() => dac.ilOffsetsAt(ip));
  // As SOS (ConvertNativeToIlOffset): the first offset; the prolog counts as the first line, no
  // mapping has none (and the epilog, which SOS maps to the method's last IL offset, is left out).
  const first = map?.ilOffsets[0];
  const il = first === IL_OFFSET_PROLOG ? 0 : first;
  if (!map || il === undefined || il < 0 || image.base === 0) return undefined;
  return lines.sourceLine(image, map.methodToken, il);
}

/** Code inside libcoreclr.so is an FCall (SOS's "FCALL"). */
function isInCoreclr(process: NativeProcess, address: number): boolean {
  const coreclr = process.modules.modules.find((m) => m.name === "libcoreclr.so");
  return coreclr !== undefined && process.modules.at(address) === coreclr;
}

class ContractsTypeSource implements TypeSource {
  readonly backend = "contracts";
  private lines?: SourceLines;
  constructor(
    private readonly process: NativeProcess,
    private readonly rt: ClrRuntime,
    private readonly names: ManagedNames,
    /** The DAC, for what the descriptor lacks (tiers of code versions); opened on first need. */
    private readonly dac: () => { runtime?: DacRuntime; error?: string },
  ) {}

  moduleSummaries(): ManagedModuleSummary[] {
    const loader = this.rt.loader();
    return loader.moduleAddresses().map((address, index) => {
      const m = loader.module(address);
      const md = loader.metadataLocation(address);
      return {
        index,
        address,
        assembly: m.assembly,
        path: m.path,
        fileName: m.fileName,
        imageBase: m.image?.base ?? m.base,
        imageSize: m.image?.size ?? 0,
        isFileLayout: m.image ? !m.image.mapped : null,
        isDynamic: m.isReflectionEmit || m.peAssembly === 0 || m.base === 0,
        metadata: md ? { address: md.address, size: md.size } : null,
      };
    });
  }

  /** Since .NET 9 both domains allocate from the global LoaderAllocator (SystemDomain's); their stage is always OPEN. */
  domains(): DomainSummary[] {
    const loader = this.rt.loader();
    const heaps = loader.loaderHeaps(loader.globalLoaderAllocator());
    const common = { lowFrequencyHeap: heaps.lowFrequency, highFrequencyHeap: heaps.highFrequency, stubHeap: heaps.stub, stage: "OPEN" };
    const appDomain = loader.appDomain();
    const assemblies = loader.assemblies(appDomain).map((address) => {
      const a = loader.assembly(address);
      const m = a.module ? loader.module(a.module) : undefined;
      const isDynamic = !m || m.isReflectionEmit || m.peAssembly === 0;
      return {
        address,
        name: m?.path ?? "",
        isDynamic,
        modules: m ? [{ address: m.address, name: m.path || (m.isReflectionEmit ? "Dynamic Module" : "Unknown Module") }] : [],
      };
    });
    const id = loader.defaultDomainId();
    // From .NET 11 the runtime reports no System Domain (address 0) and answers every domain query
    // with the one AppDomain (dotnet/runtime#129476): SOS's System Domain block then shows the
    // AppDomain's name and assemblies.
    const systemDomain = loader.reportedSystemDomain();
    const systemContents = systemDomain === 0 ? { name: loader.appDomainFriendlyName(appDomain), assemblies } : { name: "", assemblies: [] };
    return [
      { kind: "system", address: systemDomain, ...common, ...systemContents },
      { kind: "app", address: appDomain, id, ...common, name: loader.appDomainFriendlyName(appDomain), assemblies },
    ];
  }

  moduleDetails(address: number, withTypes: boolean): ModuleDetails {
    const loader = this.rt.loader();
    const m = loader.module(address);
    const attributes: string[] = [];
    if (!m.isReflectionEmit) attributes.push("PEFile");
    if (m.isReflectionEmit) attributes.push("Reflection");
    if (m.isEditAndContinue) attributes.push("EditAndContinue");
    if (m.isReflectionEmit) attributes.push("IsDynamic");
    if (m.peAssembly !== 0 && m.path === "") attributes.push("IsInMemory");
    if (m.image && !m.image.mapped) attributes.push("IsFileLayout");
    const table = (map: number) => loader.lookupMapTable(map);
    const md = loader.metadataLocation(address);
    const result: ModuleDetails = {
      address,
      name: m.path,
      attributes,
      assembly: m.assembly,
      peAssembly: m.peAssembly,
      baseAddress: m.base,
      loaderAllocator: m.loaderAllocator,
      typeDefToMethodTableMap: table(m.maps.typeDefToMethodTable),
      typeRefToMethodTableMap: table(m.maps.typeRefToMethodTable),
      methodDefToDescMap: table(m.maps.methodDefToDesc),
      fieldDefToDescMap: table(m.maps.fieldDefToDesc),
      memberRefToDescMap: table(m.maps.memberRefToDesc),
      fileReferencesMap: 0,
      assemblyReferencesMap: table(m.maps.manifestModuleReferences),
      flags: m.flags,
      readyToRunInfo: m.readyToRunInfo,
      metadata: md ? { address: md.address, size: md.size } : null,
    };
    if (withTypes) {
      const rows = (map: number, table: number): ModuleTypeEntry[] =>
        loader.lookupMapEntries(map).map((e) => {
          let name: string | undefined;
          try {
            name = this.names.typeName(e.value);
          } catch (err) {
            if (!(err instanceof ClrscopeError)) throw err;
          }
          return { methodTable: e.value, token: token(table, e.rid), name: name ?? "<unknown type>" };
        });
      result.typeDefs = rows(m.maps.typeDefToMethodTable, T.TypeDef);
      result.typeRefs = rows(m.maps.typeRefToMethodTable, T.TypeRef);
    }
    return result;
  }

  codeVersionHistory(methodDesc: number): CodeVersionHistory {
    let versions: MethodCodeVersions;
    try {
      versions = this.rt.codeVersions(methodDesc);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { dacTiers: new Map(), tierSource: null, notes: [`code versions unavailable: ${e.message}`] };
    }
    const notes = versions.missing.map((m) => `this runtime's descriptor does not publish ${m}`);
    const ordered = [...versions.ilVersions.filter((v) => v.isActive), ...versions.ilVersions.filter((v) => !v.isActive)];
    const tiersKnown = versions.ilVersions.every((il) => il.nativeVersions.every((v) => v.tier !== undefined));
    let tierSource: CodeVersionHistory["tierSource"] = tiersKnown ? "descriptor" : null;
    // The descriptor of .NET 10 has no tiers; the runtime's DAC knows them (ISOSDacInterface5::GetTieredVersions).
    const dacTiers = new Map<string, string>();
    if (!tiersKnown) {
      const dac = this.dac();
      if (dac.runtime) {
        try {
          for (const il of ordered) {
            for (const v of dac.runtime.sos.tieredVersions(methodDesc, il.rejitId) ?? []) {
              dacTiers.set(`${il.rejitId}:${v.NativeCodeVersionNodePtr}`, DAC_OPTIMIZATION_TIERS[v.OptimizationTier] ?? "Unknown Tier");
            }
          }
          if (dacTiers.size > 0) tierSource = "dac";
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
          notes.push(`tiers unavailable: ${e.message}`);
        }
      } else {
        notes.push(`tiers unavailable: the DAC is not available (${dac.error})`);
      }
    }
    return { versions: { ...versions, ilVersions: ordered }, dacTiers, tierSource, notes };
  }

  methodTable(address: number): SourceMethodTable {
    const mt = this.rt.typeSystemDetails().methodTableDetails(address);
    const out: SourceMethodTable = {
      address,
      module: mt.module,
      eeClass: mt.eeClass,
      parent: mt.parent,
      token: mt.token,
      rawBaseSize: mt.baseSize,
      baseSize: mt.isString ? mt.baseSize - 2 : mt.baseSize,
      componentSize: mt.componentSize,
      containsGCPointers: mt.containsGCPointers,
      isFree: mt.isFree,
      numMethods: mt.numMethods,
      numInterfaces: mt.numInterfaces,
      eeClassIsCanonicalMethodTable: false,
      // Only runtimes from .NET 9 on publish a descriptor, and they all hand SOS the canonical MethodTable.
      prefersCanonicalMethodTable: true,
      isCollectible: mt.isCollectible,
      numVirtuals: mt.numVirtuals,
      numVtableSlots: mt.numVtableSlots,
    };
    if (!mt.isCanonical) out.canonical = mt.canonicalMethodTable;
    return out;
  }

  methodDesc(address: number): SourceMethodDesc {
    const md = this.rt.typeSystemDetails().methodDescDetails(address);
    // The code that runs now is the active code version's (tier 1 after rejit), as the DAC's
    // NativeCodeAddr; the MethodDesc's own slot keeps the first (tier-0 or precompiled) code.
    const active = tryOrUndefined(() => this.rt.codeVersions(address).activeNativeVersion?.nativeCode);
    return {
      address,
      methodTable: md.methodTable,
      module: this.rt.methodTable(md.methodTable).module,
      token: md.token,
      slot: md.slot,
      nativeCode: active || md.nativeCode,
      classification: md.classification,
      isStatic: md.isStatic,
    };
  }

  typeName(methodTable: number): string | undefined {
    return this.names.typeName(methodTable);
  }

  methodSignature(methodDesc: number): string {
    return this.names.methodSignature(methodDesc);
  }

  modulePath(module: number): string {
    return this.rt.module(module).path;
  }

  moduleMetadata(module: number): MetadataReader | undefined {
    return this.names.moduleMetadata(module);
  }

  ilAddress(module: number, rva: number): number {
    return this.rt.loader().ilAddress(module, rva);
  }

  modules(): SourceModule[] {
    const loader = this.rt.loader();
    return loader.moduleAddresses().map((address) => {
      const m = loader.module(address);
      return { address, path: m.path, fileName: m.fileName };
    });
  }

  typeDefMethodTable(module: number, rid: number): number {
    const loader = this.rt.loader();
    return loader.lookupMapElement(loader.module(module).maps.typeDefToMethodTable, rid).value;
  }

  methodDefDesc(module: number, rid: number): number {
    const loader = this.rt.loader();
    return loader.lookupMapElement(loader.module(module).maps.methodDefToDesc, rid).value;
  }

  typeDefMethodTables(module: number): { rid: number; methodTable: number }[] {
    const loader = this.rt.loader();
    return loader
      .lookupMapEntries(loader.module(module).maps.typeDefToMethodTable)
      .filter((e) => e.value !== 0)
      .map((e) => ({ rid: e.rid, methodTable: e.value }));
  }

  slots(methodTable: number): SourceSlot[] {
    return this.rt.typeSystemDetails().methodTableSlots(methodTable);
  }

  assemblyLoadContext(methodTable: number): number | undefined {
    const module = this.rt.methodTable(methodTable).module;
    return module ? this.rt.loader().assemblyLoadContext(module) : undefined;
  }

  /** The descriptor of .NET 9/10 has no IL map of JIT'd code (DebugInfo): the DAC's, when it loads. */
  sourceLine(ip: number, module: number): { file: string; line: number } | undefined {
    const dac = this.dac().runtime;
    if (!dac) return undefined;
    const m = tryOrUndefined(() => this.rt.loader().module(module));
    if (!m) return undefined;
    this.lines ??= new SourceLines(this.process.memory, this.process.symbolDirs);
    return dacSourceLine(this.lines, dac, ip, { base: m.image?.base ?? m.base, path: m.path });
  }

  codeBlock(ip: number): SourceCodeBlock | undefined {
    const b = this.rt.codeBlock(ip);
    return b && { methodDesc: b.methodDesc, start: b.start, offset: b.offset, kind: b.kind };
  }

  /**
   * The ExecutionManager's answer when the dump has what it reads; else (heap dumps leave
   * ReadyToRun image pages out) code inside the method's module image is precompiled.
   */
  jitKind(nativeCode: number, module: number): JitKind {
    if (nativeCode === 0) return "NONE";
    try {
      const block = this.rt.codeBlock(nativeCode);
      if (block) return block.kind === "jit" ? "JIT" : "PreJIT";
      return isInCoreclr(this.process, nativeCode) ? "FCALL" : "NONE";
    } catch (e) {
      if (!(e instanceof MemoryNotInDump)) throw e;
    }
    try {
      const image = module ? this.rt.loader().module(module).image : undefined;
      if (image && nativeCode >= image.base && nativeCode < image.base + image.size) return "PreJIT";
    } catch (e) {
      if (!(e instanceof MemoryNotInDump)) throw e;
    }
    return "NONE";
  }
}

/** MethodAttributes.Static. */
const METHOD_ATTR_STATIC = 0x0010;

class DacTypeSource implements TypeSource {
  readonly backend = "dac";
  private lines?: SourceLines;
  constructor(
    private readonly process: NativeProcess,
    private readonly dac: DacRuntime,
    readonly reason?: string,
  ) {}

  moduleSummaries(): ManagedModuleSummary[] {
    return dacModuleSummaries(this.dac, this.process.memory);
  }

  domains(): DomainSummary[] {
    return dacDomainSummaries(this.dac);
  }

  moduleDetails(address: number, withTypes: boolean): ModuleDetails {
    return dacModuleDetails(this.dac, this.process.memory, address, withTypes);
  }

  /**
   * The version history as SOS reads it from the DAC (DumpMDInfoFromMethodDescData): the current
   * rejit's IL code version (ISOSDacInterface7::GetReJITInformation) and its native code versions
   * with tiers (ISOSDacInterface5::GetTieredVersions); the active one holds the MethodDesc's code.
   */
  codeVersionHistory(methodDesc: number): CodeVersionHistory {
    try {
      const data = this.dac.sos.methodDescData(methodDesc);
      const rejitId = data.rejitDataCurrent.rejitID;
      const tiered = this.dac.sos.tieredVersions(methodDesc, rejitId);
      if (!tiered) return { dacTiers: new Map(), tierSource: null, notes: ["this DAC has no ISOSDacInterface5 (tiered versions)"] };
      const il = this.dac.sos.reJitInformation(methodDesc, rejitId);
      // The active version holds the MethodDesc's current code; with none compiled yet, the default one is.
      const holding = tiered.findIndex((v) => v.NativeCodeAddr !== 0 && v.NativeCodeAddr === data.NativeCodeAddr);
      const active = holding >= 0 ? holding : tiered.findIndex((v) => v.NativeCodeVersionNodePtr === 0);
      const nativeVersions = tiered.map((v, i) => ({
        node: v.NativeCodeVersionNodePtr,
        nativeCode: v.NativeCodeAddr,
        isActive: i === active,
        tier: DAC_OPTIMIZATION_TIERS[v.OptimizationTier] ?? "Unknown Tier",
      }));
      const versions: MethodCodeVersions = {
        methodDesc,
        ilVersions: [{ node: il?.ilCodeVersionNodePtr ?? 0, rejitId, ilAddress: il?.il, isActive: true, nativeVersions }],
        activeNativeVersion: nativeVersions.find((v) => v.isActive),
        missing: [],
      };
      return { versions, dacTiers: new Map(), tierSource: "dac", notes: [] };
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { dacTiers: new Map(), tierSource: null, notes: [`code versions unavailable: ${e.message}`] };
    }
  }

  methodTable(address: number): SourceMethodTable {
    const d = this.dac.sos.methodTableData(address);
    if (d.bIsFree) {
      return {
        address, module: 0, eeClass: 0, parent: 0, token: 0, rawBaseSize: d.BaseSize, baseSize: d.BaseSize, componentSize: d.ComponentSize,
        containsGCPointers: false, isFree: true, numMethods: 0, numInterfaces: 0, eeClassIsCanonicalMethodTable: false, prefersCanonicalMethodTable: false, isCollectible: null, numVirtuals: null, numVtableSlots: null,
      };
    }
    // Up to .NET 8 the DAC's Class is the EEClass, whose GetMethodTableForEEClass is the canonical
    // MethodTable. Since .NET 9 Class is the canonical MethodTable itself (dacprivate.h) and no
    // ISOSDacInterface call gives the EEClass: SOS prints that MethodTable as "EEClass:", and so do we.
    let canonical = 0;
    let classIsMethodTable = false;
    try {
      canonical = this.dac.sos.methodTableForEEClass(d.Class);
      classIsMethodTable = canonical === d.Class;
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    // GetMethodTableData already takes System.String's NUL off BaseSize.
    const isString = d.ComponentSize === 2 && this.typeName(address) === "System.String";
    const out: SourceMethodTable = {
      address,
      module: d.Module,
      eeClass: d.Class,
      parent: d.ParentMethodTable,
      // Arrays have no TypeDef: the DAC says mdTypeDefNil (0x02000000), the contracts backend 0.
      token: tokenRid(d.cl) === 0 ? 0 : d.cl >>> 0,
      rawBaseSize: isString ? d.BaseSize + 2 : d.BaseSize,
      baseSize: d.BaseSize,
      componentSize: d.ComponentSize,
      containsGCPointers: d.bContainsPointers !== 0,
      isFree: false,
      numMethods: d.wNumMethods,
      numInterfaces: d.wNumInterfaces,
      eeClassIsCanonicalMethodTable: classIsMethodTable,
      prefersCanonicalMethodTable: classIsMethodTable,
      isCollectible: null,
      // Since .NET 9 the DAC reports 0 for both (dacprivate.h): unknown then, not 0.
      numVirtuals: d.wNumVtableSlots === 0 ? null : d.wNumVirtuals,
      numVtableSlots: d.wNumVtableSlots === 0 ? null : d.wNumVtableSlots,
    };
    if (canonical !== 0 && canonical !== address) out.canonical = canonical;
    return out;
  }

  methodDesc(address: number): SourceMethodDesc {
    const d = this.dac.sos.methodDescData(address);
    const md: SourceMethodDesc = {
      address,
      methodTable: d.MethodTablePtr,
      module: d.ModulePtr,
      token: d.MDToken >>> 0,
      slot: d.wSlotNumber,
      nativeCode: d.bHasNativeCode ? d.NativeCodeAddr : 0,
      classification: d.bIsDynamic ? "Dynamic" : null,
      isStatic: null,
    };
    // Static or not is the method's metadata (MethodDef flags); dynamic methods have none.
    const meta = d.bIsDynamic ? undefined : this.dac.moduleMetadata(d.ModulePtr);
    const rid = tokenRid(md.token);
    if (meta && tokenTable(md.token) === T.MethodDef && rid > 0) {
      try {
        md.isStatic = (meta.methodFlags(rid) & METHOD_ATTR_STATIC) !== 0;
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
      }
    }
    return md;
  }

  typeName(methodTable: number): string | undefined {
    try {
      return this.dac.methodTableName(methodTable);
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  }

  /**
   * Our formatter over the method's metadata where that alone names it (methods of non-generic
   * types and of generic type definitions, not generic method instantiations), so that names equal
   * the contracts backend's: the DAC names typical generic parameters "!0"/"!!0" where SigFormat with
   * the metadata prints "T"/"U". Instantiations (whose type arguments ISOSDacInterface does not
   * hand out) and dynamic methods keep the DAC's GetMethodDescName.
   */
  methodSignature(methodDesc: number): string {
    let dacName: string;
    try {
      dacName = this.dac.sos.methodDescName(methodDesc);
    } catch (e) {
      if (e instanceof ClrscopeError) return `<MethodDesc 0x${methodDesc.toString(16)}>`;
      throw e;
    }
    if (dacName.includes("[[")) return this.withGenericParamNames(methodDesc, dacName);
    try {
      const d = this.dac.sos.methodDescData(methodDesc);
      if (d.bIsDynamic) return dacName;
      const meta = this.dac.moduleMetadata(d.ModulePtr);
      const typeToken = this.dac.sos.methodTableData(d.MethodTablePtr).cl >>> 0;
      if (!meta || tokenTable(d.MDToken) !== T.MethodDef || tokenTable(typeToken) !== T.TypeDef) return dacName;
      return dacMethodName({ kind: "named", md: meta, token: typeToken, args: [] }, meta, tokenRid(d.MDToken), []);
    } catch (e) {
      if (e instanceof ClrscopeError) return dacName;
      throw e;
    }
  }

  /**
   * An instantiated type's method whose own generic parameters are open (`Inner<int>.Park<U>`): the
   * DAC names them by position (`!!0`, and the type's `!0`); the metadata's names, as the contracts
   * backend gives them.
   */
  private withGenericParamNames(methodDesc: number, dacName: string): string {
    if (!/!\d/.test(dacName)) return dacName;
    try {
      const d = this.dac.sos.methodDescData(methodDesc);
      const meta = this.dac.moduleMetadata(d.ModulePtr);
      const typeToken = this.dac.sos.methodTableData(d.MethodTablePtr).cl >>> 0;
      if (!meta || tokenTable(d.MDToken) !== T.MethodDef || tokenTable(typeToken) !== T.TypeDef) return dacName;
      const name = (owner: number, index: string) => {
        const p = genericParam(meta, owner, Number(index));
        return p.kind === "var" || p.kind === "mvar" ? p.name : `!${index}`;
      };
      return dacName.replace(/!!(\d+)/g, (_m, i: string) => name(d.MDToken >>> 0, i)).replace(/!(\d+)/g, (_m, i: string) => name(typeToken, i));
    } catch (e) {
      if (e instanceof ClrscopeError) return dacName;
      throw e;
    }
  }

  modulePath(module: number): string {
    return this.dac.modulePath(module);
  }

  moduleMetadata(module: number): MetadataReader | undefined {
    return this.dac.moduleMetadata(module);
  }

  ilAddress(module: number, rva: number): number {
    return this.dac.sos.ilForModule(module, rva);
  }

  modules(): SourceModule[] {
    return this.dac.moduleAddresses().map((address) => {
      const path = this.dac.modulePath(address);
      return { address, path, fileName: fileNameOf(path) };
    });
  }

  typeDefMethodTable(module: number, rid: number): number {
    return this.fromToken(module, token(T.TypeDef, rid));
  }

  methodDefDesc(module: number, rid: number): number {
    return this.fromToken(module, token(T.MethodDef, rid));
  }

  /** Asks the DAC for each TypeDef of the metadata (GetMethodDescFromToken answers MethodTables for TypeDefs). */
  typeDefMethodTables(module: number): { rid: number; methodTable: number }[] {
    const meta = this.dac.moduleMetadata(module);
    const out: { rid: number; methodTable: number }[] = [];
    const count = meta ? meta.rowCount(T.TypeDef) : 0;
    for (let rid = 1; rid <= count; rid++) {
      const methodTable = this.fromToken(module, token(T.TypeDef, rid));
      if (methodTable !== 0) out.push({ rid, methodTable });
    }
    return out;
  }

  private fromToken(module: number, token: number): number {
    try {
      return this.dac.sos.methodDescFromToken(module, token);
    } catch (e) {
      if (e instanceof ClrscopeError) return 0; // the DAC says no: not loaded
      throw e;
    }
  }

  slots(methodTable: number): SourceSlot[] {
    const sos = this.dac.sos;
    const enumerated = sos.methodTableSlots(methodTable);
    if (enumerated) return enumerated.map((s) => ({ slot: s.Slot, entry: s.Entrypoint, methodDesc: s.MethodDesc, token: s.Token >>> 0, definingModule: s.DefiningModule }));
    // Before .NET 9: GetMethodTableSlot answers vtable slots, then the type's own methods' slots
    // beyond the vtable (its introduced-method walk); SOS asks for each.
    const d = sos.methodTableData(methodTable);
    const out: SourceSlot[] = [];
    const last = Math.min(d.wNumVtableSlots + d.wNumMethods, MAX_METHODS_PER_TYPE);
    for (let slot = 0; slot < last; slot++) {
      let entry: number;
      try {
        entry = sos.methodTableSlot(methodTable, slot);
      } catch (e) {
        if (e instanceof ClrscopeError) continue;
        throw e;
      }
      if (entry === 0) continue;
      out.push({ slot, entry, methodDesc: this.methodDescAt(entry) });
    }
    return out;
  }

  /** The MethodDesc of an entry point: its code's header, else the precode it is. */
  private methodDescAt(entry: number): number {
    try {
      return this.dac.sos.codeHeaderData(entry).MethodDescPtr;
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    return this.dac.sos.methodDescFromIp(entry);
  }

  sourceLine(ip: number, module: number): { file: string; line: number } | undefined {
    const base = tryOrUndefined(() => this.dac.sos.moduleData(module).ilBase);
    if (base === undefined) return undefined;
    this.lines ??= new SourceLines(this.process.memory, this.process.symbolDirs);
    return dacSourceLine(this.lines, this.dac, ip, { base, path: this.dac.modulePath(module) });
  }

  assemblyLoadContext(methodTable: number): number | undefined {
    try {
      return this.dac.sos.assemblyLoadContext(methodTable);
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  }

  codeBlock(ip: number): SourceCodeBlock | undefined {
    let h;
    try {
      h = this.dac.sos.codeHeaderData(ip);
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
    if (h.MethodDescPtr === 0) return undefined;
    const cold = h.ColdRegionStart !== 0 && ip >= h.ColdRegionStart && ip < h.ColdRegionStart + h.ColdRegionSize;
    const start = cold ? h.ColdRegionStart : h.MethodStart;
    return { methodDesc: h.MethodDescPtr, start, offset: ip - start, kind: DAC_JIT_TYPES[h.JITType] === "prejit" ? "readytorun" : "jit" };
  }

  jitKind(nativeCode: number): JitKind {
    if (nativeCode === 0) return "NONE";
    try {
      const kind = DAC_JIT_TYPES[this.dac.sos.codeHeaderData(nativeCode).JITType];
      if (kind === "jit") return "JIT";
      if (kind === "prejit") return "PreJIT";
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    return isInCoreclr(this.process, nativeCode) ? "FCALL" : "NONE";
  }
}

/**
 * Exercises what the type and loader commands read through the contracts backend (the domains,
 * CoreLib's first loaded type with its slots and a MethodDesc, the code map): a descriptor
 * without those parts (.NET 9's) throws MissingRuntimeDataError here, before any command output
 * depends on it.
 */
function probeContracts(rt: ClrRuntime): void {
  const loader = rt.loader();
  const steps: (() => void)[] = [
    () => void loader.systemDomain(),
    () => void loader.globalLoaderAllocator(),
    () => {
      const corelib = loader.module(loader.moduleAddresses()[0]!);
      const ts = rt.typeSystemDetails();
      const typeDef = loader.lookupMapEntries(corelib.maps.typeDefToMethodTable).find((e) => e.value !== 0);
      if (!typeDef) return;
      ts.methodTableSlots(typeDef.value);
      const md = ts.introducedMethodDescs(typeDef.value)[0];
      if (md !== undefined) ts.methodDescDetails(md);
    },
    () => void rt.codeBlock(loader.module(loader.moduleAddresses()[0]!).base),
  ];
  // Only a missing part of the descriptor decides; pages a heap dump left out do not.
  for (const step of steps) {
    try {
      step();
    } catch (e) {
      if (e instanceof MissingRuntimeDataError || !(e instanceof ClrscopeError)) throw e;
    }
  }
}

/** A MethodDesc and its type's MethodTable, or CommandError(not-a-methoddesc) when `address` is not a MethodDesc. */
export function methodDescWithType(src: TypeSource, address: number): { md: SourceMethodDesc; mt: SourceMethodTable } {
  let md: SourceMethodDesc, mt: SourceMethodTable;
  try {
    md = src.methodDesc(address);
    mt = src.methodTable(md.methodTable);
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    throw new CommandError(`${hexAddress(address)} is not a MethodDesc`, "not-a-methoddesc");
  }
  if (mt.eeClass === 0 || mt.module === 0) throw new CommandError(`${hexAddress(address)} is not a MethodDesc`, "not-a-methoddesc");
  return { md, mt };
}

/** What choosing a type source needs from the session's managed runtime (managed-runtime.ts). */
export interface TypeSourceContext {
  process: NativeProcess;
  choice: BackendChoice;
  contracts(): ClrRuntime;
  names(): ManagedNames;
  dac(): { runtime?: DacRuntime; error?: string };
}

/**
 * The type-system data source of a session: `--backend` when given, else the contracts
 * backend if this runtime's descriptor has what the commands read, else the DAC.
 */
export function createTypeSource(ctx: TypeSourceContext): TypeSource {
  const choice = ctx.choice;
  let reason: string | undefined;
  if (choice !== "dac") {
    try {
      const rt = ctx.contracts();
      if (choice === "auto") probeContracts(rt);
      return new ContractsTypeSource(ctx.process, rt, ctx.names(), () => ctx.dac());
    } catch (e) {
      if (choice === "contracts" || !(e instanceof MissingRuntimeDataError || e instanceof NoRuntimeError) || !ctx.process.runtime) throw e;
      reason = e.message;
    }
  }
  const d = ctx.dac();
  if (!d.runtime) {
    throw new NoRuntimeError(reason ? `${reason}; the DAC is not available either: ${d.error}` : `the DAC is not available: ${d.error}`);
  }
  return new DacTypeSource(ctx.process, d.runtime, reason);
}
