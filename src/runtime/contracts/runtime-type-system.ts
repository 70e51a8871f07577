// RuntimeTypeSystem and Loader contracts, version 1 (dotnet/runtime docs/design/datacontracts/
// RuntimeTypeSystem.md, Loader.md), the parts that name code: MethodDesc -> chunk -> MethodTable
// and metadata token; MethodTable -> Module and TypeDef token; Module -> image base and path.
import type { RuntimeTarget } from "./target.js";
import { MemoryNotInDump } from "../../errors.js";

export interface MethodDescInfo {
  address: number;
  methodTable: number;
  /** MethodDef token (0x06xxxxxx), reassembled from the chunk's range and the desc's remainder. */
  token: number;
  slot: number;
  chunk: number;
}

export interface MethodTableInfo {
  address: number;
  module: number;
  /** TypeDef token (0x02xxxxxx); 0 for types without one (arrays, function pointers). */
  token: number;
  parent: number;
  baseSize: number;
}

export interface ModuleInfo {
  address: number;
  /** Load address of the PE image (0 for dynamic modules). */
  base: number;
  path: string;
}

export class RuntimeTypeSystem {
  private readonly modules = new Map<number, ModuleInfo>();

  constructor(private readonly t: RuntimeTarget) {}

  methodDesc(address: number): MethodDescInfo {
    const t = this.t;
    const d = t.descriptor;
    const chunkIndex = t.u8(t.at(address, "MethodDesc", "ChunkIndex"));
    const chunk = address - chunkIndex * d.global("MethodDescAlignment") - d.size("MethodDescChunk");
    const remainderBits = d.global("MethodDescTokenRemainderBitCount");
    const remainder = t.u16(t.at(address, "MethodDesc", "Flags3AndTokenRemainder")) & ((1 << remainderBits) - 1);
    const range = t.u16(t.at(chunk, "MethodDescChunk", "FlagsAndTokenRange")) & (0xffffff >>> remainderBits);
    return {
      address,
      chunk,
      methodTable: t.pointerField(chunk, "MethodDescChunk", "MethodTable"),
      token: (0x06000000 | (range << remainderBits) | remainder) >>> 0,
      slot: t.u16(t.at(address, "MethodDesc", "Slot")),
    };
  }

  methodTable(address: number): MethodTableInfo {
    const t = this.t;
    const rid = t.u32Field(address, "MethodTable", "MTFlags2") >>> 8;
    return {
      address,
      module: t.pointerField(address, "MethodTable", "Module"),
      token: rid === 0 ? 0 : (0x02000000 | rid) >>> 0,
      parent: t.pointerField(address, "MethodTable", "ParentMethodTable"),
      baseSize: t.u32Field(address, "MethodTable", "BaseSize"),
    };
  }

  module(address: number): ModuleInfo {
    let m = this.modules.get(address);
    if (!m) {
      const t = this.t;
      const pathPointer = t.pointerField(address, "Module", "Path");
      m = { address, base: t.pointerField(address, "Module", "Base"), path: pathPointer ? t.utf16z(pathPointer) : "" };
      this.modules.set(address, m);
    }
    return m;
  }

}

// ---- MethodTable details, EEClass, MethodDesc enumeration (RuntimeTypeSystem.md, version 1) ----

/** MTFlags high bits (WFLAGS_HIGH) and MTFlags2 bits the commands use. */
const MTF = {
  categoryMask: 0x000f0000,
  categoryArrayMask: 0x000c0000,
  categoryArray: 0x00080000,
  categoryInterface: 0x000c0000,
  collectible: 0x00200000,
  containsGCPointers: 0x01000000,
  hasComponentSize: 0x80000000,
  dynamicStatics2: 0x0002,
} as const;

/** MethodDesc.Flags bits (MethodDescFlags). */
const MDF = {
  classificationMask: 0x7,
  hasNonVtableSlot: 0x0008,
  hasMethodImpl: 0x0010,
  hasNativeCodeSlot: 0x0020,
  static: 0x0080,
} as const;

/** MethodDesc.Flags3AndTokenRemainder high bits (MethodDescFlags3). */
const MDF3 = { hasStableEntryPoint: 0x1000, hasPrecode: 0x2000 } as const;

/** MethodDescChunk.FlagsAndTokenRange: LoaderModuleAttachedToChunk (MethodDescChunkFlags). */
const CHUNK_LOADER_MODULE_ATTACHED = 0x8000;

/** Vtable slots live in indirection chunks of 8 pointers after the MethodTable (VTableIndirections). */
const VTABLE_POINTERS_PER_CHUNK_LOG2 = 3;

const MAX_CHUNKS = 1 << 16;
const MAX_METHODS_PER_TYPE = 1 << 16;

export const METHOD_CLASSIFICATIONS = ["IL", "FCall", "PInvoke", "EEImpl", "Array", "Instantiated", "ComInterop", "Dynamic"] as const;
export type MethodClassification = (typeof METHOD_CLASSIFICATIONS)[number];

export interface MethodTableDetails extends MethodTableInfo {
  mtFlags: number;
  mtFlags2: number;
  /** EEClass of the type (through the canonical MethodTable when EEClassOrCanonMT is tagged). */
  eeClass: number;
  /** The canonical MethodTable (this one unless it is a non-canonical generic instantiation). */
  canonicalMethodTable: number;
  isCanonical: boolean;
  componentSize: number;
  containsGCPointers: boolean;
  isArray: boolean;
  isString: boolean;
  isInterface: boolean;
  isCollectible: boolean;
  isDynamicStatics: boolean;
  isFree: boolean;
  numVirtuals: number;
  numInterfaces: number;
  /** EEClass.NumMethods: MethodDescs the (canonical) type introduces. */
  numMethods: number;
  numNonVirtualSlots: number;
  /** NumVirtuals + (canonical ? EEClass.NumNonVirtualSlots : 0). */
  numVtableSlots: number;
}

export interface MethodDescDetails extends MethodDescInfo {
  classification: MethodClassification;
  flags: number;
  flags3: number;
  /** Bytes this MethodDesc takes in its chunk (classification size plus optional slots). */
  size: number;
  isStatic: boolean;
  hasNativeCodeSlot: boolean;
  hasNonVtableSlot: boolean;
  hasStableEntryPoint: boolean;
  hasPrecode: boolean;
  /** RuntimeTypeSystem GetNativeCode: the native code slot, or the stable entry point; 0 if none. */
  nativeCode: number;
}

export interface MethodTableSlot {
  slot: number;
  /** The slot's code pointer (the method's entry point: precode or native code). */
  entry: number;
  methodDesc: number;
}

export class RuntimeTypeSystemDetails {
  constructor(
    private readonly t: RuntimeTarget,
    private readonly rts: RuntimeTypeSystem,
  ) {}

  methodTableDetails(address: number): MethodTableDetails {
    const t = this.t;
    const base = this.rts.methodTable(address);
    const mtFlags = t.u32Field(address, "MethodTable", "MTFlags");
    const mtFlags2 = t.u32Field(address, "MethodTable", "MTFlags2");
    const tagged = t.pointerField(address, "MethodTable", "EEClassOrCanonMT");
    const isCanonical = (tagged & 1) === 0;
    const canonicalMethodTable = isCanonical ? address : tagged - 1;
    const eeClass = isCanonical ? tagged : t.pointerField(canonicalMethodTable, "MethodTable", "EEClassOrCanonMT");
    const hasComponentSize = (mtFlags & MTF.hasComponentSize) !== 0;
    const isArray = (mtFlags & MTF.categoryArrayMask) === MTF.categoryArray;
    const componentSize = hasComponentSize ? mtFlags & 0xffff : 0;
    const numVirtuals = t.u16(t.at(address, "MethodTable", "NumVirtuals"));
    const numMethods = t.u16(t.at(eeClass, "EEClass", "NumMethods"));
    const numNonVirtualSlots = t.u16(t.at(eeClass, "EEClass", "NumNonVirtualSlots"));
    const free = t.descriptor.hasGlobal("FreeObjectMethodTable") ? t.globalVariable("FreeObjectMethodTable") : 0;
    return {
      ...base,
      mtFlags,
      mtFlags2,
      eeClass,
      canonicalMethodTable,
      isCanonical,
      componentSize,
      containsGCPointers: (mtFlags & MTF.containsGCPointers) !== 0,
      isArray,
      isString: hasComponentSize && !isArray && componentSize === 2,
      isInterface: (mtFlags & MTF.categoryMask) === MTF.categoryInterface,
      isCollectible: (mtFlags & MTF.collectible) !== 0,
      isDynamicStatics: (mtFlags2 & MTF.dynamicStatics2) !== 0,
      isFree: free !== 0 && free === address,
      numVirtuals,
      numInterfaces: t.u16(t.at(address, "MethodTable", "NumInterfaces")),
      numMethods,
      numNonVirtualSlots,
      numVtableSlots: numVirtuals + (isCanonical ? numNonVirtualSlots : 0),
    };
  }

  /** Bytes of a MethodDesc: its classification's type size plus the optional trailing slots. */
  private methodDescSize(flags: number): { base: number; size: number } {
    const d = this.t.descriptor;
    const types = ["MethodDesc", "FCallMethodDesc", "PInvokeMethodDesc", "EEImplMethodDesc", "ArrayMethodDesc", "InstantiatedMethodDesc", "CLRToCOMCallMethodDesc", "DynamicMethodDesc"];
    const base = d.size(types[flags & MDF.classificationMask]!);
    let size = base;
    if (flags & MDF.hasNonVtableSlot) size += d.size("NonVtableSlot");
    if (flags & MDF.hasMethodImpl) size += d.size("MethodImpl");
    if (flags & MDF.hasNativeCodeSlot) size += d.size("NativeCodeSlot");
    return { base, size };
  }

  methodDescDetails(address: number): MethodDescDetails {
    const t = this.t;
    const info = this.rts.methodDesc(address);
    const flags = t.u16(t.at(address, "MethodDesc", "Flags"));
    const flags3 = t.u16(t.at(address, "MethodDesc", "Flags3AndTokenRemainder"));
    const { base, size } = this.methodDescSize(flags);
    const hasNonVtableSlot = (flags & MDF.hasNonVtableSlot) !== 0;
    const hasNativeCodeSlot = (flags & MDF.hasNativeCodeSlot) !== 0;
    const hasStableEntryPoint = (flags3 & MDF3.hasStableEntryPoint) !== 0;
    const hasPrecode = (flags3 & MDF3.hasPrecode) !== 0;
    // Optional slots follow the MethodDesc packed as [non-vtable slot, MethodImpl, native code slot].
    let nativeCode = 0;
    if (hasNativeCodeSlot) {
      let offset = base;
      if (hasNonVtableSlot) offset += t.descriptor.size("NonVtableSlot");
      if (flags & MDF.hasMethodImpl) offset += t.descriptor.size("MethodImpl");
      nativeCode = t.pointer(address + offset);
    } else if (hasStableEntryPoint && !hasPrecode) {
      nativeCode = hasNonVtableSlot ? t.pointer(address + base) : this.slotValue(info.methodTable, info.slot);
    }
    return {
      ...info,
      classification: METHOD_CLASSIFICATIONS[flags & MDF.classificationMask]!,
      flags,
      flags3,
      size,
      isStatic: (flags & MDF.static) !== 0,
      hasNativeCodeSlot,
      hasNonVtableSlot,
      hasStableEntryPoint,
      hasPrecode,
      nativeCode,
    };
  }

  private readonly introduced = new Map<number, number[]>();

  /**
   * The MethodDescs a type introduces: EEClass.MethodDescChunk, then each chunk's Next. A chunk
   * missing from the dump (heap dumps leave some loader-heap pages out) ends the list there.
   */
  introducedMethodDescs(methodTable: number): number[] {
    let cached = this.introduced.get(methodTable);
    if (!cached) {
      cached = [];
      try {
        this.walkChunks(methodTable, cached);
      } catch (e) {
        if (!(e instanceof MemoryNotInDump)) throw e;
      }
      this.introduced.set(methodTable, cached);
    }
    return cached;
  }

  private walkChunks(methodTable: number, out: number[]): void {
    const t = this.t;
    const d = t.descriptor;
    const mt = this.methodTableDetails(methodTable);
    const alignment = d.global("MethodDescAlignment");
    let chunk = t.pointerField(mt.eeClass, "EEClass", "MethodDescChunk");
    for (let n = 0; chunk !== 0 && n < MAX_CHUNKS && out.length < MAX_METHODS_PER_TYPE; n++) {
      const count = t.u8(t.at(chunk, "MethodDescChunk", "Count")) + 1;
      const chunkBytes = (t.u8(t.at(chunk, "MethodDescChunk", "Size")) + 1) * alignment;
      const loaderModule = (t.u16(t.at(chunk, "MethodDescChunk", "FlagsAndTokenRange")) & CHUNK_LOADER_MODULE_ATTACHED) !== 0 ? 8 : 0;
      const first = chunk + d.size("MethodDescChunk");
      const end = first + chunkBytes - loaderModule;
      let md = first;
      for (let i = 0; i < count && md < end; i++) {
        out.push(md);
        md += this.methodDescSize(t.u16(t.at(md, "MethodDesc", "Flags"))).size;
      }
      chunk = t.pointerField(chunk, "MethodDescChunk", "Next");
    }
  }

  /** Address of a MethodTable slot (GetAddressOfSlot): vtable indirection chunks, else the non-virtual slot array. */
  slotAddress(methodTable: number, slot: number): number {
    const t = this.t;
    const numVirtuals = t.u16(t.at(methodTable, "MethodTable", "NumVirtuals"));
    const pointerSize = 8;
    if (slot < numVirtuals) {
      const indirection = methodTable + t.descriptor.size("MethodTable") + (slot >>> VTABLE_POINTERS_PER_CHUNK_LOG2) * pointerSize;
      return t.pointer(indirection) + (slot & ((1 << VTABLE_POINTERS_PER_CHUNK_LOG2) - 1)) * pointerSize;
    }
    const aux = t.pointerField(methodTable, "MethodTable", "AuxiliaryData");
    const raw = t.u16(t.at(aux, "MethodTableAuxiliaryData", "OffsetToNonVirtualSlots"));
    const offset = raw >= 0x8000 ? raw - 0x10000 : raw;
    return aux + offset - (1 + slot - numVirtuals) * pointerSize;
  }

  slotValue(methodTable: number, slot: number): number {
    return this.t.pointer(this.slotAddress(methodTable, slot));
  }

  /**
   * The MethodDesc owning a slot: the introduced method with that slot number in the canonical
   * MethodTable or, for inherited virtual slots, its nearest ancestor (GetMethodDescForSlot's
   * walk, without decoding the slot's precode).
   */
  methodDescForSlot(methodTable: number, slot: number): number {
    let mt = this.methodTableDetails(methodTable).canonicalMethodTable;
    for (let depth = 0; mt !== 0 && depth < 1024; depth++) {
      for (const md of this.introducedMethodDescs(mt)) {
        if (this.t.u16(this.t.at(md, "MethodDesc", "Slot")) === slot) return md;
      }
      const parent = this.rts.methodTable(mt).parent;
      mt = parent === 0 ? 0 : this.methodTableDetails(parent).canonicalMethodTable;
    }
    return 0;
  }

  /**
   * SOS's MethodDesc table of a type (the DAC's slot enumerator): every vtable slot in order,
   * then the introduced methods whose slot lies beyond the vtable.
   */
  methodTableSlots(methodTable: number): MethodTableSlot[] {
    const mt = this.methodTableDetails(methodTable);
    const out: MethodTableSlot[] = [];
    for (let slot = 0; slot < mt.numVtableSlots && slot < MAX_METHODS_PER_TYPE; slot++) {
      let entry = 0;
      try {
        entry = this.slotValue(methodTable, slot);
      } catch {
        entry = 0;
      }
      out.push({ slot, entry, methodDesc: this.methodDescForSlot(methodTable, slot) });
    }
    for (const md of this.introducedMethodDescs(mt.canonicalMethodTable)) {
      const slot = this.t.u16(this.t.at(md, "MethodDesc", "Slot"));
      if (slot < mt.numVtableSlots) continue;
      let entry = 0;
      try {
        const flags = this.t.u16(this.t.at(md, "MethodDesc", "Flags"));
        if (flags & MDF.hasNonVtableSlot) entry = this.t.pointer(md + this.methodDescSize(flags).base);
      } catch (e) {
        if (!(e instanceof MemoryNotInDump)) throw e;
      }
      out.push({ slot, entry, methodDesc: md });
    }
    return out;
  }
}
