// RuntimeTypeSystem and Loader contracts, version 1 (dotnet/runtime docs/design/datacontracts/
// RuntimeTypeSystem.md, Loader.md), the parts that name code: MethodDesc -> chunk -> MethodTable
// and metadata token; MethodTable -> Module and TypeDef token; Module -> image base and path.
import type { RuntimeTarget } from "./target.js";
import { CorruptDataError, MemoryNotInDump } from "../../errors.js";
import { MAX_DYNAMIC_METHOD_NAME_BYTES, MAX_METHODS_PER_TYPE, MAX_METHOD_DESC_CHUNKS, MAX_STORED_SIG_BYTES, MAX_TYPE_ARGS } from "../../limits.js";
import { T, token } from "../../metadata/tables.js";
import { POINTER_SIZE } from "../../dump/address-space.js";
import { isTypeDesc, typeDescAddress } from "../type-handle.js";

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
      token: token(T.MethodDef, (range << remainderBits) | remainder),
      slot: t.u16(t.at(address, "MethodDesc", "Slot")),
    };
  }

  methodTable(address: number): MethodTableInfo {
    const t = this.t;
    const rid = t.u32Field(address, "MethodTable", "MTFlags2") >>> 8;
    return {
      address,
      module: t.pointerField(address, "MethodTable", "Module"),
      token: rid === 0 ? 0 : token(T.TypeDef, rid),
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
  hasAsyncMethodData: 0x0040,
  static: 0x0080,
} as const;

/** MethodDesc.Flags3AndTokenRemainder high bits (MethodDescFlags3). */
const MDF3 = { hasStableEntryPoint: 0x1000, hasPrecode: 0x2000 } as const;

/** MethodDescChunk.FlagsAndTokenRange: LoaderModuleAttachedToChunk (MethodDescChunkFlags). */
const CHUNK_LOADER_MODULE_ATTACHED = 0x8000;

/** Vtable slots live in indirection chunks of 8 pointers after the MethodTable (VTableIndirections). */
const VTABLE_POINTERS_PER_CHUNK_LOG2 = 3;


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

  /**
   * The CorElementType a signature gives the type (MethodTable::GetSignatureCorElementType), which
   * SOS prints as an array's element "Type": arrays SZARRAY or ARRAY, true primitives their own
   * (EEClass.InternalCorElementType), other value types (enums too) VALUETYPE, the rest CLASS.
   */
  signatureElementType(methodTable: number): number {
    const d = this.methodTableDetails(methodTable);
    const category = d.mtFlags & MTF.categoryMask;
    if (d.isArray) return (d.mtFlags & MT_CATEGORY.szArrayBit) !== 0 ? CorElement.SZARRAY : CorElement.ARRAY;
    if (category === MT_CATEGORY.truePrimitive) return this.t.u8(this.t.at(d.eeClass, "EEClass", "InternalCorElementType"));
    if (category >= MT_CATEGORY.valueType && category <= MT_CATEGORY.primitiveValueType) return CorElement.VALUETYPE;
    return CorElement.CLASS;
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
    // .NET 11's runtime-async methods carry an AsyncMethodData after the other optional slots.
    if (flags & MDF.hasAsyncMethodData && d.types.has("AsyncMethodData")) size += d.size("AsyncMethodData");
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
    for (let n = 0; chunk !== 0 && n < MAX_METHOD_DESC_CHUNKS && out.length < MAX_METHODS_PER_TYPE; n++) {
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
    if (slot < numVirtuals) {
      const indirection = methodTable + t.descriptor.size("MethodTable") + (slot >>> VTABLE_POINTERS_PER_CHUNK_LOG2) * POINTER_SIZE;
      return t.pointer(indirection) + (slot & ((1 << VTABLE_POINTERS_PER_CHUNK_LOG2) - 1)) * POINTER_SIZE;
    }
    const aux = t.pointerField(methodTable, "MethodTable", "AuxiliaryData");
    const raw = t.u16(t.at(aux, "MethodTableAuxiliaryData", "OffsetToNonVirtualSlots"));
    const offset = raw >= 0x8000 ? raw - 0x10000 : raw;
    return aux + offset - (1 + slot - numVirtuals) * POINTER_SIZE;
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
   * SOS's MethodDesc table of a type (the DAC's slot enumerator, DacMethodTableSlotEnumerator):
   * the type's own vtable slots (GetNumVtableSlots: a non-canonical generic instantiation has its
   * virtual slots only, its non-virtual ones live in the canonical MethodTable), then the
   * canonical type's introduced methods whose slot lies beyond them, in MethodDesc chunk order,
   * each with its entry point (its non-vtable slot, else its MethodTable's slot).
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
        entry = flags & MDF.hasNonVtableSlot ? this.t.pointer(md + this.methodDescSize(flags).base) : this.slotValue(mt.canonicalMethodTable, slot);
      } catch (e) {
        if (!(e instanceof MemoryNotInDump)) throw e;
      }
      out.push({ slot, entry, methodDesc: md });
    }
    return out;
  }
}

// ---- Type handles and instantiations, for names (RuntimeTypeSystem.md: GetInstantiation,
// IsArray/GetTypeParam, TypeDesc kinds, GetGenericMethodInstantiation, IsNoMetadataMethod) ----

/** WFLAGS_LOW generics bits (valid when the MethodTable has no component size). */
const MT_GENERICS_MASK = 0x00000030;
const MT_GENERICS_TYPICAL = 0x00000030;
/** InstantiatedMethodDescFlags2: KindMask and GenericMethodDefinition. */
const IMD_KIND_MASK = 0x07;
const IMD_GENERIC_METHOD_DEFINITION = 0x01;
/** WFLAGS_HIGH category values used for names. */
const MT_CATEGORY = { mask: 0x000f0000, szArrayBit: 0x00020000, valueType: 0x00040000, primitiveValueType: 0x00060000, truePrimitive: 0x00070000 } as const;
/** CorElementType values (ECMA-335 II.23.1.16) a MethodTable's signature type can be. */
const CorElement = { VALUETYPE: 0x11, CLASS: 0x12, ARRAY: 0x14, SZARRAY: 0x1d } as const;
/** CorElementType of TypeDescs (ECMA-335 II.23.1.16). */
const TYPEDESC_ELEMENT = { ptr: 0x0f, byref: 0x10, valueType: 0x11, var: 0x13, fnptr: 0x1b, mvar: 0x1e } as const;
/** DynamicMethodDescExtendedFlags. */
const DYNAMIC_MD = { isLCGMethod: 0x00004000, isILStub: 0x00008000 } as const;

/** What a TypeHandle is, with the handles it is built from (enough to name it). */
export type TypeHandleShape =
  /** A class, struct or interface (generic instantiations carry their arguments' handles). */
  | {
      kind: "class";
      methodTable: number;
      module: number;
      token: number;
      /** Type arguments (TypeHandles) of a generic instantiation; empty otherwise. */
      instantiation: number[];
      /** The typical instantiation (List<T> itself): the runtime names it without its arguments. */
      isGenericTypeDefinition: boolean;
      /** CorElementType of a true primitive (System.Int32 -> I4): signatures name those short. */
      primitiveElementType?: number;
    }
  /** An array MethodTable: SZ arrays ("[]") and multi-dimensional ones (rank 1: "[*]"). */
  | { kind: "array"; methodTable: number; elementType: number; rank: number; sz: boolean }
  /** ParamTypeDescs: pointer, byref, or the native value type view of a struct. */
  | { kind: "ptr" | "byref" | "valuetype"; typeDesc: number; typeArg: number }
  /** TypeVarTypeDesc: a generic parameter of a type (var) or method (mvar), by its GenericParam token. */
  | { kind: "var" | "mvar"; typeDesc: number; module: number; token: number }
  | { kind: "fnptr"; typeDesc: number }
  | { kind: "unknown"; typeDesc: number; elementType: number };

export interface DynamicMethodInfo {
  /** The runtime's name for it (DynamicMethodDesc.MethodName), e.g. "IL_STUB_PInvoke" or a DynamicMethod's name. */
  name: string;
  /** A System.Reflection.Emit.DynamicMethod (LCG) or a runtime-generated IL stub. */
  kind: "lcg" | "ilstub" | "other";
  /** The stored signature (StoredSigMethodDesc.Sig). */
  signature: Uint8Array;
}

export class RuntimeTypeNames {
  constructor(
    private readonly t: RuntimeTarget,
    private readonly details: RuntimeTypeSystemDetails,
  ) {}

  /**
   * Rank of a multi-dimensional array type: ArrayClass.Rank up to .NET 10; .NET 11 dropped it, and
   * the rank follows from the MethodTable's BaseSize: the array header (ArrayBaseSize global) then
   * a length and a lower bound (two Int32) per dimension (MethodTable::GetRank).
   */
  private multiDimensionalRank(methodTable: number, eeClass: number): number {
    const t = this.t;
    if (t.descriptor.hasField("ArrayClass", "Rank")) return t.u8(t.at(eeClass, "ArrayClass", "Rank"));
    const bounds = t.u32Field(methodTable, "MethodTable", "BaseSize") - t.descriptor.global("ArrayBaseSize");
    if (bounds <= 0 || bounds % 8 !== 0) throw new CorruptDataError(`array type 0x${methodTable.toString(16)} has a BaseSize that fits no rank (damaged)`);
    return bounds / 8;
  }

  typeHandleShape(typeHandle: number): TypeHandleShape {
    const t = this.t;
    if (isTypeDesc(typeHandle)) {
      const typeDesc = typeDescAddress(typeHandle);
      const elementType = t.u32Field(typeDesc, "TypeDesc", "TypeAndFlags") & 0xff;
      switch (elementType) {
        case TYPEDESC_ELEMENT.ptr:
        case TYPEDESC_ELEMENT.byref:
        case TYPEDESC_ELEMENT.valueType: {
          const kind = elementType === TYPEDESC_ELEMENT.ptr ? "ptr" : elementType === TYPEDESC_ELEMENT.byref ? "byref" : "valuetype";
          return { kind, typeDesc, typeArg: t.pointerField(typeDesc, "ParamTypeDesc", "TypeArg") };
        }
        case TYPEDESC_ELEMENT.var:
        case TYPEDESC_ELEMENT.mvar:
          return {
            kind: elementType === TYPEDESC_ELEMENT.var ? "var" : "mvar",
            typeDesc,
            module: t.pointerField(typeDesc, "TypeVarTypeDesc", "Module"),
            token: t.u32Field(typeDesc, "TypeVarTypeDesc", "Token"),
          };
        case TYPEDESC_ELEMENT.fnptr:
          return { kind: "fnptr", typeDesc };
        default:
          return { kind: "unknown", typeDesc, elementType };
      }
    }
    const mt = this.details.methodTableDetails(typeHandle);
    if (mt.isArray) {
      const sz = (mt.mtFlags & MT_CATEGORY.szArrayBit) !== 0;
      return {
        kind: "array",
        methodTable: typeHandle,
        // For arrays PerInstInfo holds the element TypeHandle; the EEClass is an ArrayClass.
        elementType: t.pointerField(typeHandle, "MethodTable", "PerInstInfo"),
        rank: sz ? 1 : this.multiDimensionalRank(typeHandle, mt.eeClass),
        sz,
      };
    }
    const shape: TypeHandleShape = {
      kind: "class",
      methodTable: typeHandle,
      module: mt.module,
      token: mt.token,
      instantiation: this.instantiation(typeHandle, mt.mtFlags),
      isGenericTypeDefinition: (mt.mtFlags & MTF.hasComponentSize) === 0 && (mt.mtFlags & MT_GENERICS_MASK) === MT_GENERICS_TYPICAL,
    };
    if ((mt.mtFlags & MT_CATEGORY.mask) === MT_CATEGORY.truePrimitive) shape.primitiveElementType = t.u8(t.at(mt.eeClass, "EEClass", "InternalCorElementType"));
    return shape;
  }

  /** GetInstantiation: the type arguments live in the last of the type's dictionaries (PerInstInfo[NumDicts - 1]). */
  private instantiation(methodTable: number, mtFlags: number): number[] {
    const t = this.t;
    const d = t.descriptor;
    const hasComponentSize = (mtFlags & MTF.hasComponentSize) !== 0;
    if (hasComponentSize || (mtFlags & MT_GENERICS_MASK) === 0) return [];
    const perInstInfo = t.pointerField(methodTable, "MethodTable", "PerInstInfo");
    if (perInstInfo === 0) return [];
    // GenericsDictInfo sits right before the dictionary pointers (MethodTable::GetGenericsDictInfo).
    const dictInfo = perInstInfo - (d.types.get("GenericsDictInfo")?.size ?? POINTER_SIZE);
    const numDicts = t.u16(t.at(dictInfo, "GenericsDictInfo", "NumDicts"));
    const numTypeArgs = t.u16(t.at(dictInfo, "GenericsDictInfo", "NumTypeArgs"));
    if (numDicts === 0 || numTypeArgs > MAX_TYPE_ARGS) return [];
    const dictionary = t.pointer(perInstInfo + (numDicts - 1) * POINTER_SIZE);
    return this.readHandles(dictionary, numTypeArgs);
  }

  /** IsGenericMethodDefinition: the typical method (Park<U> itself); the runtime names it without its arguments. */
  isGenericMethodDefinition(methodDesc: number): boolean {
    const t = this.t;
    if (this.details.methodDescDetails(methodDesc).classification !== "Instantiated") return false;
    return (t.u16(t.at(methodDesc, "InstantiatedMethodDesc", "Flags2")) & IMD_KIND_MASK) === IMD_GENERIC_METHOD_DEFINITION;
  }

  /** GetGenericMethodInstantiation: an InstantiatedMethodDesc's type arguments (PerInstInfo, NumGenericArgs). */
  methodInstantiation(methodDesc: number): number[] {
    const t = this.t;
    if (this.details.methodDescDetails(methodDesc).classification !== "Instantiated") return [];
    const dictionary = t.pointerField(methodDesc, "InstantiatedMethodDesc", "PerInstInfo");
    if (dictionary === 0) return [];
    const count = t.u16(t.at(methodDesc, "InstantiatedMethodDesc", "NumGenericArgs"));
    return count > MAX_TYPE_ARGS ? [] : this.readHandles(dictionary, count);
  }

  /** IsNoMetadataMethod: a DynamicMethodDesc's name, kind and stored signature; undefined for other MethodDescs. */
  dynamicMethod(methodDesc: number): DynamicMethodInfo | undefined {
    const t = this.t;
    if (this.details.methodDescDetails(methodDesc).classification !== "Dynamic") return undefined;
    const flags = t.u32Field(methodDesc, "StoredSigMethodDesc", "ExtendedFlags");
    const sig = t.pointerField(methodDesc, "StoredSigMethodDesc", "Sig");
    const sigLength = t.u32Field(methodDesc, "StoredSigMethodDesc", "cSig");
    const namePointer = t.pointerField(methodDesc, "DynamicMethodDesc", "MethodName");
    return {
      name: namePointer ? this.utf8z(namePointer) : "",
      kind: flags & DYNAMIC_MD.isLCGMethod ? "lcg" : flags & DYNAMIC_MD.isILStub ? "ilstub" : "other",
      signature: sig && sigLength <= MAX_STORED_SIG_BYTES ? t.memory.read(sig, sigLength) : new Uint8Array(0),
    };
  }

  /**
   * An ArrayMethodDesc (Get, Set, Address, constructors of an array type): its function index
   * (slot past the vtable: 0 Get, 1 Set, 2 Address, 3+ .ctor) and the signature the runtime
   * stored for it (its element type is ELEMENT_TYPE_VAR 0: the array's element type);
   * undefined for other MethodDescs.
   */
  arrayMethod(methodDesc: number): { funcIndex: number; signature: Uint8Array } | undefined {
    const t = this.t;
    const md = this.details.methodDescDetails(methodDesc);
    if (md.classification !== "Array") return undefined;
    const sig = t.pointerField(methodDesc, "StoredSigMethodDesc", "Sig");
    const sigLength = t.u32Field(methodDesc, "StoredSigMethodDesc", "cSig");
    return {
      funcIndex: md.slot - this.details.methodTableDetails(md.methodTable).numVirtuals,
      signature: sig && sigLength <= MAX_STORED_SIG_BYTES ? t.memory.read(sig, sigLength) : new Uint8Array(0),
    };
  }

  private readHandles(address: number, count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.t.pointer(address + i * POINTER_SIZE));
    return out;
  }

  private utf8z(address: number): string {
    const bytes: number[] = [];
    for (let a = address; bytes.length < MAX_DYNAMIC_METHOD_NAME_BYTES; a++) {
      const b = this.t.u8(a);
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString("utf8");
  }
}
