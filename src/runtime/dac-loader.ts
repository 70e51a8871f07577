// modules, dumpdomain and dumpmodule from the runtime's DAC (GetAppDomainStoreData/List/Data,
// GetAssemblyList/Data/ModuleList, GetModuleData, GetMethodDescFromToken), in the model's shapes
// the contracts backend fills too, for runtimes whose descriptor lacks the Loader's parts (.NET 8, 9).
import type { Memory } from "../dump/address-space.js";
import { ClrscopeError } from "../errors.js";
import { loadedImageSource, PeImage, type PeLayout } from "../metadata/pe.js";
import { T, token } from "../metadata/tables.js";
import type { DacRuntime } from "./dac/dac-runtime.js";
import { ModuleFlags } from "./contracts/loader.js";
import type { DomainAssemblySummary, DomainSummary, ManagedModuleSummary, ModuleDetails, ModuleTypeEntry } from "./model.js";
import { fileNameOf } from "../native/modules.js";

/** IMAGE_DIRECTORY_ENTRY_SECURITY: its VirtualAddress is a file offset (the certificates end the file). */
const DIR_SECURITY = 4;
/** DacpAppDomainDataStage names, as SOS prints them. */
const STAGES = ["CREATING", "READYFORMANAGEDCODE", "ACTIVE", "OPEN", "UNLOAD_REQUESTED", "EXITING", "EXITED", "FINALIZING", "FINALIZED", "HANDLETABLE_NOACCESS", "CLEARED", "COLLECTED", "CLOSED"];

export interface ImageLayout {
  /** The runtime's PEImageLayout size: SizeOfImage when mapped, the file's size when flat. */
  size: number;
  layout: PeLayout;
}

/**
 * The layout and size of a PE image loaded at `base`, from its headers in dump memory (the DAC
 * reports neither): a flat image is as long as its file, which ends with its last section's raw
 * data or its certificates.
 */
export function imageLayout(memory: Memory, base: number, path: string): ImageLayout | undefined {
  if (base === 0) return undefined;
  const source = loadedImageSource(memory, base);
  try {
    const layout = PeImage.detectLayout(source, path);
    if (!layout) return undefined;
    const pe = new PeImage(source, layout, path, false);
    if (layout === "mapped") return { size: pe.sizeOfImage, layout };
    let end = pe.sizeOfHeaders;
    for (const s of pe.sections) end = Math.max(end, s.pointerToRawData + s.sizeOfRawData);
    const certificates = pe.directory(DIR_SECURITY);
    if (certificates) end = Math.max(end, certificates.rva + certificates.size);
    return { size: end, layout };
  } catch (e) {
    if (e instanceof ClrscopeError) return undefined;
    throw e;
  }
}

/** Every managed module of the AppDomain, in load order (modules / lm). */
export function dacModuleSummaries(dac: DacRuntime, memory: Memory): ManagedModuleSummary[] {
  return dac.moduleAddresses().map((address, index) => {
    const m = dac.sos.moduleData(address);
    const path = dac.modulePath(address);
    const image = imageLayout(memory, m.ilBase, path);
    return {
      index,
      address,
      assembly: m.Assembly,
      path,
      fileName: fileNameOf(path),
      imageBase: m.ilBase,
      imageSize: image?.size ?? 0,
      isFileLayout: image ? image.layout === "file" : null,
      isDynamic: m.bIsReflection !== 0 || m.PEAssembly === 0 || m.ilBase === 0,
      metadata: m.metadataStart !== 0 && m.metadataSize !== 0 ? { address: m.metadataStart, size: m.metadataSize } : null,
    };
  });
}

/** The System Domain and the AppDomain with its assemblies (dumpdomain). */
export function dacDomainSummaries(dac: DacRuntime): DomainSummary[] {
  const sos = dac.sos;
  const store = sos.appDomainStoreData();
  const block = (address: number, kind: "system" | "app"): DomainSummary => {
    const d = sos.appDomainData(address);
    const out: DomainSummary = {
      kind,
      address,
      lowFrequencyHeap: d.pLowFrequencyHeap,
      highFrequencyHeap: d.pHighFrequencyHeap,
      stubHeap: d.pStubHeap,
      stage: STAGES[d.appDomainStage] ?? String(d.appDomainStage),
      name: "",
      assemblies: [],
    };
    if (kind === "system") return out;
    out.id = d.dwId;
    try {
      out.name = sos.appDomainName(address);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    out.assemblies = sos.assemblyList(address).map((assembly): DomainAssemblySummary => {
      const a = sos.assemblyData(address, assembly);
      const modules = sos.assemblyModuleList(assembly).map((m) => {
        const data = sos.moduleData(m);
        const path = dac.modulePath(m);
        return { address: m, name: path || (data.bIsReflection ? "Dynamic Module" : "Unknown Module"), path, reflection: data.bIsReflection !== 0 };
      });
      return {
        address: assembly,
        name: modules[0]?.path ?? "",
        isDynamic: a.isDynamic !== 0 || modules.length === 0 || modules[0]!.reflection,
        modules: modules.map((m) => ({ address: m.address, name: m.name })),
      };
    });
    return out;
  };
  return [block(store.systemDomain, "system"), ...sos.appDomainList().map((d) => block(d, "app"))];
}

/** dumpmodule [-mt] from GetModuleData; -mt asks GetMethodDescFromToken for each TypeDef and TypeRef of the metadata. */
export function dacModuleDetails(dac: DacRuntime, memory: Memory, address: number, withTypes: boolean): ModuleDetails {
  const m = dac.sos.moduleData(address);
  const path = dac.modulePath(address);
  const image = imageLayout(memory, m.ilBase, path);
  const reflection = m.bIsReflection !== 0;
  // Since .NET 9 the DAC puts the Module's own address where the PEAssembly was (dacprivate.h).
  const peAssemblyKnown = m.PEAssembly !== address;
  const attributes: string[] = [];
  if (!reflection) attributes.push("PEFile");
  if (reflection) attributes.push("Reflection");
  if (m.dwTransientFlags & ModuleFlags.EditAndContinue) attributes.push("EditAndContinue");
  if (reflection) attributes.push("IsDynamic");
  if (m.PEAssembly !== 0 && path === "") attributes.push("IsInMemory");
  if (image?.layout === "file") attributes.push("IsFileLayout");
  const result: ModuleDetails = {
    address: address,
    name: path,
    attributes,
    assembly: m.Assembly,
    peAssembly: peAssemblyKnown ? m.PEAssembly : 0,
    baseAddress: m.ilBase,
    loaderAllocator: m.LoaderAllocator,
    typeDefToMethodTableMap: m.TypeDefToMethodTableMap,
    typeRefToMethodTableMap: m.TypeRefToMethodTableMap,
    methodDefToDescMap: m.MethodDefToDescMap,
    fieldDefToDescMap: m.FieldDefToDescMap,
    memberRefToDescMap: m.MemberRefToDescMap,
    fileReferencesMap: 0,
    assemblyReferencesMap: m.ManifestModuleReferencesMap,
    flags: m.dwTransientFlags,
    readyToRunInfo: 0,
    metadata: m.metadataStart !== 0 && m.metadataSize !== 0 ? { address: m.metadataStart, size: m.metadataSize } : null,
    unavailable: peAssemblyKnown ? ["readyToRunInfo"] : ["peAssembly", "readyToRunInfo"],
  };
  if (withTypes) {
    const meta = dac.moduleMetadata(address);
    const rows = (table: number): ModuleTypeEntry[] => {
      const out: ModuleTypeEntry[] = [];
      const count = meta ? meta.rowCount(table) : 0;
      for (let rid = 1; rid <= count; rid++) {
        const tok = token(table, rid);
        let mt = 0;
        try {
          mt = dac.sos.methodDescFromToken(address, tok);
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
        }
        if (mt === 0) continue;
        let name: string | undefined;
        try {
          name = dac.methodTableName(mt);
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
        }
        out.push({ methodTable: mt, token: tok, name: name ?? "<unknown type>" });
      }
      return out;
    };
    result.typeDefs = rows(T.TypeDef);
    result.typeRefs = rows(T.TypeRef);
  }
  return result;
}
