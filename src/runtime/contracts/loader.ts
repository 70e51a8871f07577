// Loader contract, version 1 (dotnet/runtime docs/design/datacontracts/Loader.md): the AppDomain's
// assembly list (ArrayListBase of DomainAssembly -> Assembly -> Module), a Module's fields, its
// lookup maps (ModuleLookupMap segments), its loaded PE image layout, and where its metadata and
// IL bodies lie in memory (EcmaMetadata contract: through the image's CLI header). Every field
// offset comes from the runtime's descriptor through RuntimeTarget.
import { ClrscopeError, CorruptDataError, tryOrUndefined } from "../../errors.js";
import { loadedImageSource, PeImage, type PeLayout } from "../../metadata/pe.js";
import { warn } from "../../warnings.js";
import type { RuntimeTarget } from "./target.js";
import { hex } from "../../hex.js";
import { MAX_ASSEMBLIES, MAX_MAP_ENTRIES, MAX_MAP_SEGMENTS, MAX_TYPE_HASH_ENTRIES } from "../../limits.js";
import { POINTER_SIZE } from "../../dump/address-space.js";

/** Module::m_dwTransientFlags bits the contract names (ModuleFlags_1). */
export const ModuleFlags = {
  Tenured: 0x1,
  EditAndContinue: 0x8,
  ReflectionEmit: 0x40,
} as const;

/** PEImageLayout flags: the image is mapped section by section (vs. the flat file layout). */
const PE_IMAGE_FLAG_MAPPED = 0x1;
/** Assembly::m_level at or past FILE_LOAD_DELIVER_EVENTS: loaded. */
const ASSEMBLY_LEVEL_LOADED = 0x4;


export interface AssemblyInfo {
  address: number;
  module: number;
  isCollectible: boolean;
  /** File load level (FileLoadLevel); >= 4 is loaded. Undefined where the runtime publishes only IsLoaded (.NET 11). */
  level?: number;
  isLoaded: boolean;
  notifyFlags: number;
  /** Exception of a failed load, 0 when none. */
  error: number;
}

/** The lookup tables of a Module: each is an inline ModuleLookupMap (the first segment). */
export interface ModuleLookupMaps {
  typeDefToMethodTable: number;
  typeRefToMethodTable: number;
  methodDefToDesc: number;
  fieldDefToDesc: number;
  memberRefToDesc: number;
  manifestModuleReferences: number;
  methodDefToILCodeVersioningState?: number;
}

export interface ImageLayoutInfo {
  base: number;
  size: number;
  flags: number;
  /** FLAG_MAPPED: sections at their RVAs; otherwise the file's flat layout. */
  mapped: boolean;
}

export interface LoaderModule {
  address: number;
  assembly: number;
  peAssembly: number;
  loaderAllocator: number;
  /** Module::m_baseAddress: where the PE image starts in memory (0 for dynamic modules). */
  base: number;
  path: string;
  fileName: string;
  flags: number;
  isTenured: boolean;
  isEditAndContinue: boolean;
  isReflectionEmit: boolean;
  readyToRunInfo: number;
  dynamicMetadata: number;
  /** Addresses of the inline ModuleLookupMap structures (segment 1 of each map). */
  maps: ModuleLookupMaps;
  /** The PEImage's loaded layout, when the module has one. */
  image?: ImageLayoutInfo;
}

export interface ModuleMetadataLocation {
  address: number;
  size: number;
  layout: PeLayout;
}

export class Loader {
  private readonly modules = new Map<number, LoaderModule>();
  private readonly pe = new Map<number, { pe: PeImage; layout: PeLayout } | null>();

  constructor(private readonly t: RuntimeTarget) {}

  appDomain(): number {
    return this.t.globalVariable("AppDomain");
  }

  /** Id of the default (only) AppDomain: the DefaultADID global, 1 when unpublished. */
  defaultDomainId(): number {
    return this.t.descriptor.hasGlobal("DefaultADID") ? this.t.descriptor.global("DefaultADID") : 1;
  }

  systemDomain(): number {
    return this.t.globalVariable("SystemDomain");
  }

  /**
   * The System Domain's address as the runtime's debugging interface reports it (SOS prints it):
   * from .NET 11 (Loader "c1") the DAC's GetAppDomainStoreData reports none (0), the SystemDomain
   * being no domain any more, only the holder of the global LoaderAllocator (seen with the 11.0.0 DAC).
   */
  reportedSystemDomain(): number {
    return this.t.descriptor.hasStringVersion("Loader") ? 0 : this.systemDomain();
  }

  /** AppDomain::m_friendlyName ("" when unset). */
  appDomainFriendlyName(appDomain = this.appDomain()): string {
    if (!this.t.descriptor.hasField("AppDomain", "FriendlyName")) return "";
    const p = this.t.pointerField(appDomain, "AppDomain", "FriendlyName");
    return p ? this.t.utf16z(p) : "";
  }

  rootAssembly(appDomain = this.appDomain()): number {
    return this.t.pointerField(appDomain, "AppDomain", "RootAssembly");
  }

  globalLoaderAllocator(): number {
    return this.systemDomain() + this.t.descriptor.offset("SystemDomain", "GlobalLoaderAllocator");
  }

  loaderHeaps(loaderAllocator: number): { lowFrequency: number; highFrequency: number; stub: number } {
    const t = this.t;
    return {
      lowFrequency: t.pointerField(loaderAllocator, "LoaderAllocator", "LowFrequencyHeap"),
      highFrequency: t.pointerField(loaderAllocator, "LoaderAllocator", "HighFrequencyHeap"),
      // .NET 11 has no stub heap (its stubs live in the precode heaps): 0, as the DAC reports it.
      stub: t.descriptor.hasField("LoaderAllocator", "StubHeap") ? t.pointerField(loaderAllocator, "LoaderAllocator", "StubHeap") : 0,
    };
  }

  /** The elements of an ArrayListBase (arraylist.h): a count and a chain of blocks, the first inline. */
  arrayList(list: number, max = MAX_ASSEMBLIES): number[] {
    const t = this.t;
    const count = t.u32Field(list, "ArrayListBase", "Count");
    if (count > max) throw new CorruptDataError(`ArrayList at 0x${list.toString(16)} claims ${count} elements`);
    const out: number[] = [];
    let block = list + t.descriptor.offset("ArrayListBase", "FirstBlock");
    const seen = new Set<number>();
    while (out.length < count && block !== 0) {
      if (seen.has(block)) throw new CorruptDataError(`ArrayList at 0x${list.toString(16)}: its blocks form a cycle`);
      seen.add(block);
      const size = t.u32Field(block, "ArrayListBlock", "Size");
      const start = t.at(block, "ArrayListBlock", "ArrayStart");
      for (let i = 0; i < size && out.length < count; i++) out.push(t.pointer(start + i * POINTER_SIZE));
      block = t.pointerField(block, "ArrayListBlock", "Next");
    }
    if (out.length < count) throw new CorruptDataError(`ArrayList at 0x${list.toString(16)}: ${count} elements claimed, ${out.length} found`);
    return out;
  }

  /**
   * The Assemblies of the AppDomain in load order. Up to .NET 10 each list element is a
   * DomainAssembly, whose first field points at the Assembly (AppDomain.DomainAssemblyList); .NET 11
   * removed DomainAssembly and lists the Assemblies themselves (AppDomain.AssemblyList). Unused
   * (null) slots are skipped.
   */
  assemblies(appDomain = this.appDomain()): number[] {
    if (!this.t.descriptor.hasField("AppDomain", "DomainAssemblyList")) {
      return this.arrayList(this.t.at(appDomain, "AppDomain", "AssemblyList")).filter((a) => a !== 0);
    }
    const list = this.t.at(appDomain, "AppDomain", "DomainAssemblyList");
    const out: number[] = [];
    for (const da of this.arrayList(list)) {
      if (da === 0) continue;
      const assembly = this.t.pointer(da);
      // A DomainAssembly exists for its Assembly: without one it is damaged, and an assembly is missing.
      if (assembly === 0) warn(`DomainAssembly ${hex(da)} has no Assembly (damaged): an assembly and its module are missing`);
      else out.push(assembly);
    }
    return out;
  }

  assembly(address: number): AssemblyInfo {
    const t = this.t;
    // .NET 11 replaced the load level with an IsLoaded flag.
    const level = t.descriptor.hasField("Assembly", "Level") ? t.u32Field(address, "Assembly", "Level") : undefined;
    return {
      address,
      module: t.pointerField(address, "Assembly", "Module"),
      isCollectible: t.u8(t.at(address, "Assembly", "IsCollectible")) !== 0,
      level,
      isLoaded: level !== undefined ? level >= ASSEMBLY_LEVEL_LOADED : t.u8(t.at(address, "Assembly", "IsLoaded")) !== 0,
      notifyFlags: t.u32Field(address, "Assembly", "NotifyFlags"),
      error: t.pointerField(address, "Assembly", "Error"),
    };
  }

  /** Modules of the AppDomain's assemblies, in load order (what SOS and ClrMD enumerate). */
  moduleAddresses(appDomain = this.appDomain()): number[] {
    const out: number[] = [];
    for (const a of this.assemblies(appDomain)) {
      const module = this.assembly(a).module;
      if (module === 0) continue;
      // A Module points back at its Assembly: one that does not is damaged (its path, name and maps with it).
      // One unreadable Module must not cost the whole list.
      const back = tryOrUndefined(() => this.module(module).assembly);
      if (back !== a) warn(`module ${hex(module)} ${back === undefined ? "cannot be read" : `does not point back at its assembly ${hex(a)}`} (damaged): its details are unreliable`);
      out.push(module);
    }
    return out;
  }

  module(address: number): LoaderModule {
    let m = this.modules.get(address);
    if (m) return m;
    const t = this.t;
    const d = t.descriptor;
    const ptr = (field: string): number => (d.hasField("Module", field) ? t.pointerField(address, "Module", field) : 0);
    const mapAt = (field: string): number => t.at(address, "Module", field);
    const flags = t.u32Field(address, "Module", "Flags");
    const pathPointer = ptr("Path");
    const fileNamePointer = ptr("FileName");
    const peAssembly = ptr("PEAssembly");
    m = {
      address,
      assembly: ptr("Assembly"),
      peAssembly,
      loaderAllocator: ptr("LoaderAllocator"),
      base: ptr("Base"),
      path: pathPointer ? this.t.utf16z(pathPointer) : "",
      fileName: fileNamePointer ? this.t.utf16z(fileNamePointer) : "",
      flags,
      isTenured: (flags & ModuleFlags.Tenured) !== 0,
      isEditAndContinue: (flags & ModuleFlags.EditAndContinue) !== 0,
      isReflectionEmit: (flags & ModuleFlags.ReflectionEmit) !== 0,
      readyToRunInfo: ptr("ReadyToRunInfo"),
      dynamicMetadata: ptr("DynamicMetadata"),
      maps: {
        typeDefToMethodTable: mapAt("TypeDefToMethodTableMap"),
        typeRefToMethodTable: mapAt("TypeRefToMethodTableMap"),
        methodDefToDesc: mapAt("MethodDefToDescMap"),
        fieldDefToDesc: mapAt("FieldDefToDescMap"),
        memberRefToDesc: mapAt("MemberRefToDescMap"),
        manifestModuleReferences: mapAt("ManifestModuleReferencesMap"),
        methodDefToILCodeVersioningState: d.hasField("Module", "MethodDefToILCodeVersioningStateMap") ? mapAt("MethodDefToILCodeVersioningStateMap") : undefined,
      },
      image: this.imageLayout(peAssembly),
    };
    this.modules.set(address, m);
    return m;
  }

  /**
   * The constructed types (arrays, generic instantiations, pointers) a module's loader created:
   * the TypeHandles in its AvailableTypeParams table (Loader.md: DacEnumerableHash, whose first
   * three buckets hold the bucket count, the next bucket array and the end sentinel; chains end
   * at a pointer with the low bit set; an entry's low bit flags a hot entry). Empty when the
   * descriptor does not publish the table.
   */
  availableTypeParams(module: number): number[] {
    const t = this.t;
    const d = t.descriptor;
    if (!d.hasField("Module", "AvailableTypeParams") || !d.hasField("EETypeHashTable", "Buckets")) return [];
    const table = t.pointerField(module, "Module", "AvailableTypeParams");
    if (table === 0) return [];
    const buckets = t.pointerField(table, "EETypeHashTable", "Buckets");
    if (buckets === 0) return [];
    const chains = t.pointer(buckets);
    if (chains > MAX_TYPE_HASH_ENTRIES) throw new CorruptDataError(`module ${hex(module)}'s type table claims ${chains} buckets (damaged)`);
    const out: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < chains; i++) {
      let entry = t.pointer(buckets + (3 + i) * POINTER_SIZE);
      while (entry !== 0 && (entry & 1) === 0) {
        if (seen.has(entry)) throw new CorruptDataError(`module ${hex(module)}'s type table loops at entry ${hex(entry)} (damaged)`);
        seen.add(entry);
        if (out.length >= MAX_TYPE_HASH_ENTRIES) throw new CorruptDataError(`module ${hex(module)}'s type table has more than ${MAX_TYPE_HASH_ENTRIES} entries (damaged)`);
        const value = t.pointer(t.at(entry, "EETypeHashTable", "VolatileEntryValue"));
        out.push(value - (value % 2));
        entry = t.pointer(t.at(entry, "EETypeHashTable", "VolatileEntryNextEntry"));
      }
    }
    return out;
  }

  /**
   * The managed AssemblyLoadContext object of a module's binder (PEAssembly -> AssemblyBinder ->
   * its ALC handle, read): 0 while the runtime has not created it; undefined when the descriptor
   * does not publish the chain.
   */
  assemblyLoadContext(module: number): number | undefined {
    const t = this.t;
    const d = t.descriptor;
    if (!d.hasField("PEAssembly", "AssemblyBinder") || !d.hasField("AssemblyBinder", "AssemblyLoadContext")) return undefined;
    const peAssembly = this.module(module).peAssembly;
    if (peAssembly === 0) return undefined;
    const binder = t.pointerField(peAssembly, "PEAssembly", "AssemblyBinder");
    if (binder === 0) return undefined;
    const handle = t.pointerField(binder, "AssemblyBinder", "AssemblyLoadContext");
    return handle === 0 ? 0 : t.pointer(handle);
  }

  /** PEAssembly -> PEImage -> loaded PEImageLayout (TryGetLoadedImageContents). */
  private imageLayout(peAssembly: number): ImageLayoutInfo | undefined {
    const t = this.t;
    if (peAssembly === 0) return undefined;
    const peImage = t.pointerField(peAssembly, "PEAssembly", "PEImage");
    if (peImage === 0) return undefined;
    const layout = t.pointerField(peImage, "PEImage", "LoadedImageLayout");
    if (layout === 0) return undefined;
    const flags = t.u32Field(layout, "PEImageLayout", "Flags");
    return {
      base: t.pointerField(layout, "PEImageLayout", "Base"),
      size: t.u32Field(layout, "PEImageLayout", "Size"),
      flags,
      mapped: (flags & PE_IMAGE_FLAG_MAPPED) !== 0,
    };
  }

  /** The table (TableData) of a map's first segment: what SOS prints as the map's address. */
  lookupMapTable(map: number): number {
    return this.t.pointerField(map, "ModuleLookupMap", "TableData");
  }

  /** One element of a lookup map by RID (GetModuleLookupMapElement), flag bits removed. */
  lookupMapElement(map: number, rid: number): { value: number; flags: number } {
    const t = this.t;
    const mask = t.u64(t.at(map, "ModuleLookupMap", "SupportedFlagsMask"));
    let index = rid;
    let segment = map;
    for (let i = 0; segment !== 0 && i < MAX_MAP_SEGMENTS; i++) {
      const count = t.u32Field(segment, "ModuleLookupMap", "Count");
      if (index < count) {
        const raw = t.u64(t.pointerField(segment, "ModuleLookupMap", "TableData") + index * POINTER_SIZE);
        return { value: Number(raw & ~mask), flags: Number(raw & mask) };
      }
      index -= count;
      segment = t.pointerField(segment, "ModuleLookupMap", "Next");
    }
    return { value: 0, flags: 0 };
  }

  /** Every non-null element of a lookup map with its RID (EnumerateModuleLookupMap). */
  lookupMapEntries(map: number): { rid: number; value: number; flags: number }[] {
    const t = this.t;
    const mask = t.u64(t.at(map, "ModuleLookupMap", "SupportedFlagsMask"));
    const out: { rid: number; value: number; flags: number }[] = [];
    let base = 0;
    let segment = map;
    let total = 0;
    for (let i = 0; segment !== 0; i++) {
      if (i >= MAX_MAP_SEGMENTS) throw new CorruptDataError(`lookup map at 0x${map.toString(16)} has too many segments`);
      const count = t.u32Field(segment, "ModuleLookupMap", "Count");
      total += count;
      if (total > MAX_MAP_ENTRIES) throw new CorruptDataError(`lookup map at 0x${map.toString(16)} claims ${total} entries`);
      const table = t.pointerField(segment, "ModuleLookupMap", "TableData");
      if (count > 0 && table !== 0) {
        const bytes = t.memory.read(table, count * POINTER_SIZE);
        const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let j = 0; j < count; j++) {
          const rid = base + j;
          if (rid === 0) continue; // RID 0 is invalid
          const raw = v.getBigUint64(j * POINTER_SIZE, true);
          const value = raw & ~mask;
          if (value !== 0n) out.push({ rid, value: Number(value), flags: Number(raw & mask) });
        }
      }
      base += count;
      segment = t.pointerField(segment, "ModuleLookupMap", "Next");
    }
    return out;
  }

  /** The module's PE image as it lies in memory, or undefined (dynamic module, pages missing). */
  peImage(module: number): { pe: PeImage; layout: PeLayout } | undefined {
    let entry = this.pe.get(module);
    if (entry === undefined) {
      entry = this.readPe(module) ?? null;
      this.pe.set(module, entry);
    }
    return entry ?? undefined;
  }

  private readPe(module: number): { pe: PeImage; layout: PeLayout } | undefined {
    const m = this.module(module);
    if (m.base === 0) return undefined;
    const memory = this.t.memory;
    const source = loadedImageSource(memory, m.base);
    try {
      // The runtime's layout flag is authoritative; the CLI header's position decides without it.
      const layout: PeLayout | undefined = m.image && m.image.base === m.base ? (m.image.mapped ? "mapped" : "file") : PeImage.detectLayout(source, m.path);
      if (!layout) return undefined;
      return { pe: new PeImage(source, layout, m.path || `module 0x${module.toString(16)}`), layout };
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  }

  /** Where the module's ECMA-335 metadata lies in memory (the CLI header's metadata directory). */
  metadataLocation(module: number): ModuleMetadataLocation | undefined {
    const img = this.peImage(module);
    const md = img?.pe.cor20?.metadata;
    if (!img || !md || md.size === 0) return undefined;
    const at = img.pe.rvaToOffset(md.rva);
    if (!at) return undefined;
    return { address: this.module(module).base + at.offset, size: md.size, layout: img.layout };
  }

  /** GetILAddr: the address of the method body at `rva` in the module's image (0 for RVA 0). */
  ilAddress(module: number, rva: number): number {
    if (rva === 0) return 0;
    const img = this.peImage(module);
    if (!img) throw new CorruptDataError(`module 0x${module.toString(16)} has no PE image in memory to read IL from`);
    const at = img.pe.rvaToOffset(rva);
    if (!at) throw new CorruptDataError(`method body RVA 0x${rva.toString(16)} lies outside the sections of ${img.pe.name}`);
    return this.module(module).base + at.offset;
  }

}
