// A type's fields from the runtime's FieldDescs (RuntimeTypeSystem contract, FieldDesc section;
// .NET 11 publishes the FieldDesc layout): EEClass.FieldDescList holds the type's own instance
// fields, then its statics; DWord1 has the FieldDef token and the static flags, DWord2 the
// CorElementType (top 5 bits) and the offset. Values are read as SOS's DisplayFields reads them,
// the field's type from its metadata signature and the module's TypeDef/TypeRef maps. The result
// has the shape of the DAC's fields, so that dumpobj renders both alike.
import type { FieldValue, ManagedField } from "../model.js";
import { ClrscopeError, CorruptDataError } from "../../errors.js";
import { ET } from "../../metadata/signatures.js";
import type { MetadataReader } from "../../metadata/metadata.js";
import { MAX_FIELDS_PER_TYPE, MAX_SIGNATURE_DEPTH, MAX_STRUCT_DEPTH } from "../../limits.js";
import type { Loader } from "./loader.js";
import type { RuntimeTypeSystemDetails, TypeHandleShape } from "./runtime-type-system.js";
import type { RuntimeTarget } from "./target.js";
import { warn } from "../../warnings.js";
import { POINTER_SIZE } from "../../dump/address-space.js";

// FieldDesc bits (RuntimeTypeSystem.md, FieldDescFlags1/2).
const TOKEN_MASK = 0xffffff;
const IS_STATIC = 0x1000000;
const IS_THREAD_STATIC = 0x2000000;
const OFFSET_MASK = 0x07ffffff;
const TYPE_SHIFT = 27;

const CORLIB = "System.Private.CoreLib";
/** TLSIndex (Thread.md): the top byte is the index type, the rest the offset; all bits set is unallocated. */
const TLS_INDEX_UNALLOCATED = 0xffffffff;
const TLS_INDEX_TYPE = { nonCollectible: 0, collectible: 1, directOnThreadLocalData: 2 } as const;
/** CoreLib's types of the primitive element types, whose MethodTable SOS prints for such fields. */
const PRIMITIVE_TYPES: Record<number, string> = {
  [ET.BOOLEAN]: "Boolean", [ET.CHAR]: "Char", [ET.I1]: "SByte", [ET.U1]: "Byte", [ET.I2]: "Int16", [ET.U2]: "UInt16",
  [ET.I4]: "Int32", [ET.U4]: "UInt32", [ET.I8]: "Int64", [ET.U8]: "UInt64", [ET.R4]: "Single", [ET.R8]: "Double",
  [ET.I]: "IntPtr", [ET.U]: "UIntPtr", [ET.STRING]: "String", [ET.OBJECT]: "Object",
};


function elementSize(et: number): number {
  switch (et) {
    case ET.BOOLEAN: case ET.I1: case ET.U1: return 1;
    case ET.CHAR: case ET.I2: case ET.U2: return 2;
    case ET.I4: case ET.U4: case ET.R4: return 4;
    case ET.I8: case ET.U8: case ET.R8: case ET.I: case ET.U: case ET.PTR: case ET.FNPTR:
    case ET.CLASS: case ET.STRING: case ET.OBJECT: case ET.SZARRAY: case ET.ARRAY: case ET.GENERICINST: return 8;
    default: return 0;
  }
}

export class FieldDescs {
  private coreLibModule?: number | null;

  constructor(
    private readonly t: RuntimeTarget,
    private readonly types: RuntimeTypeSystemDetails,
    private readonly loader: Loader,
    private readonly metadata: (module: number) => MetadataReader | undefined,
    /** What a TypeHandle is (its instantiation, its element type and rank). */
    private readonly shapeOf: (typeHandle: number) => TypeHandleShape,
    /** The runtime's Threads, in the thread store's order. */
    private readonly threads: () => { address: number; osId: number }[],
  ) {}

  /** Type arguments (TypeHandles) of a generic instantiation's MethodTable; empty for other types. */
  private instantiationOf(methodTable: number): number[] {
    const shape = this.shapeOf(methodTable);
    return shape.kind === "class" ? shape.instantiation : [];
  }

  /** Whether this runtime's descriptor publishes the FieldDesc layout (.NET 11). */
  static isPublished(t: RuntimeTarget): boolean {
    return t.descriptor.hasField("FieldDesc", "DWord2") && t.descriptor.hasField("EEClass", "FieldDescList");
  }

  /** Every field of the object at `address` of type `methodTable`: the parents' first, each type's instance fields then statics. */
  fields(methodTable: number, address: number, valueType = false, depth = 0): ManagedField[] {
    const chain: number[] = [];
    for (let mt = methodTable; mt !== 0 && chain.length < 256; mt = this.types.methodTableDetails(mt).parent) chain.unshift(mt);
    const out: ManagedField[] = [];
    for (const mt of chain) out.push(...this.ownFields(mt, address, valueType, depth));
    return out;
  }

  private ownFields(methodTable: number, base: number, valueType: boolean, depth: number): ManagedField[] {
    const t = this.t;
    const d = this.types.methodTableDetails(methodTable);
    const eeClass = d.eeClass;
    // EEClass counts the parent's instance fields too; its FieldDescList holds only the type's own.
    const instances = t.u16(t.at(eeClass, "EEClass", "NumInstanceFields"));
    const parentInstances = d.parent === 0 ? 0 : t.u16(t.at(this.types.methodTableDetails(d.parent).eeClass, "EEClass", "NumInstanceFields"));
    const own = instances - parentInstances;
    const statics = t.u16(t.at(eeClass, "EEClass", "NumStaticFields"));
    if (own < 0 || own + statics > MAX_FIELDS_PER_TYPE) throw new CorruptDataError(`type 0x${methodTable.toString(16)} claims ${own} instance and ${statics} static fields (damaged EEClass)`);
    const list = t.pointerField(eeClass, "EEClass", "FieldDescList");
    if (own + statics === 0 || list === 0) return [];
    const size = t.descriptor.size("FieldDesc");
    const out: ManagedField[] = [];
    for (let i = 0; i < own + statics; i++) out.push(this.field(methodTable, d.module, list + i * size, base, valueType, depth));
    return out;
  }

  private field(methodTable: number, module: number, fieldDesc: number, base: number, valueType: boolean, depth: number): ManagedField {
    const t = this.t;
    const dword1 = t.u32Field(fieldDesc, "FieldDesc", "DWord1");
    const dword2 = t.u32Field(fieldDesc, "FieldDesc", "DWord2");
    const token = (0x04000000 | (dword1 & TOKEN_MASK)) >>> 0;
    const elementType = dword2 >>> TYPE_SHIFT;
    const rawOffset = dword2 & OFFSET_MASK;
    const isStatic = (dword1 & IS_STATIC) !== 0;
    const isThreadStatic = (dword1 & IS_THREAD_STATIC) !== 0;
    const sig = this.signatureType(module, token);
    const enclosing = sig?.et === ET.VAR || sig?.et === ET.GENERICINST || sig?.et === ET.SZARRAY || sig?.et === ET.ARRAY ? t.pointerField(fieldDesc, "FieldDesc", "MTOfEnclosingClass") : 0;
    // Without a readable signature, the FieldDesc's element type still names a primitive.
    let typeMethodTable = this.resolve(sig ?? { et: elementType }, module, enclosing, 0);
    // A field of the type's own generic parameter: its type is the enclosing class's argument
    // (System.__Canon in shared code), as the DAC's LookupFieldTypeHandle resolves it; a TypeDesc
    // there (a pointer, a generic parameter) has no MethodTable.
    if (sig?.et === ET.VAR && (typeMethodTable & 2) !== 0) typeMethodTable = 0;
    const headerBytes = valueType ? 0 : t.descriptor.size("Object");
    const field: ManagedField = {
      declaringMethodTable: methodTable, fieldDesc, token, module, elementType,
      // The DAC normalises the signature's type (PeekElemTypeNormalized): an enum is its
      // underlying primitive, which the FieldDesc holds.
      sigElementType: sig === undefined || sig.et === ET.VAR || (sig.et === ET.VALUETYPE && elementType !== ET.VALUETYPE) ? elementType : sig.et,
      typeMethodTable,
      typeToken: sig?.et === ET.CLASS || sig?.et === ET.VALUETYPE ? (sig.token ?? 0) : 0,
      // SOS's Offset column: statics too count the object header (SOS adds it); thread statics do not.
      offset: isThreadStatic ? rawOffset : rawOffset + headerBytes,
      isStatic, isThreadStatic, address: 0,
      value: { kind: "unavailable", reason: "" },
    };
    if (isThreadStatic) {
      field.value = this.threadStaticValues(methodTable, elementType, rawOffset);
      return field;
    }
    if (isStatic) {
      const staticBase = this.staticBase(methodTable, elementType === ET.CLASS || elementType === ET.VALUETYPE);
      if (staticBase === undefined) {
        field.value = { kind: "unavailable", reason: "the type has no statics information" };
      } else if (staticBase === 0) {
        field.value = { kind: "unallocated" };
      } else {
        field.address = staticBase + rawOffset;
        // A struct static lives boxed in the GC statics: SOS prints the static's own address when the box exists, else 0.
        const value = this.readValue(elementType === ET.VALUETYPE ? ET.CLASS : elementType, field.address);
        field.value = elementType === ET.VALUETYPE && value.kind === "ref" && value.value !== 0 ? { kind: "struct", address: field.address, fields: [] } : value;
      }
      return field;
    }
    field.address = base + rawOffset + headerBytes;
    if (elementType === ET.VALUETYPE) {
      let nested: ManagedField[] = [];
      if (field.typeMethodTable !== 0 && depth < MAX_STRUCT_DEPTH) {
        try {
          nested = this.fields(field.typeMethodTable, field.address, true, depth + 1).filter((x) => !x.isStatic);
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
        }
      }
      field.value = { kind: "struct", address: field.address, fields: nested };
    } else {
      field.value = this.readValue(elementType, field.address);
    }
    return field;
  }

  /**
   * A thread static's value on each thread that has its type's thread statics allocated, in the
   * thread store's order (SOS's DisplayThreadStatic). The base is the Thread contract's
   * GetThreadLocalStaticBase for the type's TLSIndex (ThreadStaticsInfo, just before the
   * MethodTableAuxiliaryData): an index into the thread's TLS arrays, or into ThreadLocalData
   * itself. A thread whose statics are only in flight (being initialised) is not listed.
   */
  private threadStaticValues(methodTable: number, elementType: number, offset: number): FieldValue {
    const t = this.t;
    const d = t.descriptor;
    if (!d.types.has("ThreadStaticsInfo") || !d.types.has("ThreadLocalData") || !d.hasField("Thread", "ThreadLocalDataPtr")) {
      return { kind: "unavailable", reason: "the runtime's descriptor publishes no thread statics layout" };
    }
    try {
      const aux = t.pointerField(methodTable, "MethodTable", "AuxiliaryData");
      const info = aux - d.size("ThreadStaticsInfo");
      const gc = elementType === ET.CLASS || elementType === ET.VALUETYPE;
      const raw = t.u32(t.at(t.at(info, "ThreadStaticsInfo", gc ? "GCTlsIndex" : "NonGCTlsIndex"), "TLSIndex", "TLSIndexRawIndex"));
      const values: { osThreadId: number; value: FieldValue }[] = [];
      if (raw === TLS_INDEX_UNALLOCATED) return { kind: "perThread", values };
      for (const thread of this.threads()) {
        if (thread.osId === 0) continue;
        const base = this.threadLocalStaticBase(thread.address, raw);
        if (base === 0) continue;
        const at = base + offset;
        const value = this.readValue(elementType === ET.VALUETYPE ? ET.CLASS : elementType, at);
        values.push({ osThreadId: thread.osId, value: elementType === ET.VALUETYPE && value.kind === "ref" && value.value !== 0 ? { kind: "struct", address: at, fields: [] } : value });
      }
      return { kind: "perThread", values };
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { kind: "unavailable", reason: e.message };
    }
  }

  /** Thread contract, GetThreadLocalStaticBase (without the in-flight list): 0 when the thread has none. */
  private threadLocalStaticBase(thread: number, rawIndex: number): number {
    const t = this.t;
    const data = t.pointerField(thread, "Thread", "ThreadLocalDataPtr");
    if (data === 0) return 0;
    const indexOffset = rawIndex & 0xffffff;
    switch (rawIndex >>> 24) {
      case TLS_INDEX_TYPE.nonCollectible: {
        if (t.i32Field(data, "ThreadLocalData", "NonCollectibleTlsDataCount") <= indexOffset) return 0;
        const array = t.pointerField(data, "ThreadLocalData", "NonCollectibleTlsArrayData");
        if (array === 0) return 0;
        const index = indexOffset - t.descriptor.global("NumberOfTlsOffsetsNotUsedInNoncollectibleArray");
        return t.pointer(array + t.descriptor.global("PtrArrayOffsetToDataArray") + index * POINTER_SIZE);
      }
      case TLS_INDEX_TYPE.collectible: {
        if (t.i32Field(data, "ThreadLocalData", "CollectibleTlsDataCount") <= indexOffset) return 0;
        const array = t.pointerField(data, "ThreadLocalData", "CollectibleTlsArrayData");
        if (array === 0) return 0;
        // Each slot is a handle to the statics object.
        const handle = t.pointer(array + indexOffset * POINTER_SIZE);
        return handle === 0 ? 0 : t.pointer(handle);
      }
      case TLS_INDEX_TYPE.directOnThreadLocalData:
        return data + indexOffset;
      default:
        throw new CorruptDataError(`TLS index 0x${rawIndex.toString(16)} has no known index type (damaged)`);
    }
  }

  /** The static base of a type (DynamicStaticsInfo, just before its MethodTableAuxiliaryData); 0 when not allocated. */
  private staticBase(methodTable: number, gc: boolean): number | undefined {
    const t = this.t;
    const d = this.types.methodTableDetails(methodTable);
    if (!d.isDynamicStatics || !t.descriptor.types.has("DynamicStaticsInfo")) return undefined;
    const aux = t.pointerField(methodTable, "MethodTable", "AuxiliaryData");
    const info = aux - t.descriptor.size("DynamicStaticsInfo");
    const raw = t.u64(t.at(info, "DynamicStaticsInfo", gc ? "GCStatics" : "NonGCStatics"));
    const masked = raw & t.descriptor.globalBig("StaticsPointerMask");
    return Number(masked);
  }

  /** The field's type from its metadata signature; undefined when the signature cannot be read. */
  private signatureType(module: number, token: number): SigType | undefined {
    const md = this.metadata(module);
    try {
      if (!md) return undefined;
      const sig = md.fieldSignature(token & TOKEN_MASK);
      return parseType(sig, 1, 0)?.type; // after FIELD
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  }

  /**
   * The TypeHandle of a signature type, as the DAC's LookupFieldTypeHandle finds it: only types the
   * runtime already loaded (TypeDef/TypeRef maps; arrays and generic instantiations from the
   * modules' tables of constructed types), 0 otherwise.
   */
  private resolve(sig: SigType, module: number, enclosing: number, depth: number): number {
    if (depth > MAX_SIGNATURE_DEPTH) return 0;
    try {
      switch (sig.et) {
        case ET.CLASS:
        case ET.VALUETYPE: {
          if (sig.token === undefined) return 0;
          const m = this.loader.module(module);
          const table = sig.token >>> 24;
          const rid = sig.token & TOKEN_MASK;
          if (table === 0x02) return this.loader.lookupMapElement(m.maps.typeDefToMethodTable, rid).value;
          if (table === 0x01) return this.loader.lookupMapElement(m.maps.typeRefToMethodTable, rid).value;
          return 0;
        }
        case ET.VAR:
          return enclosing === 0 || sig.index === undefined ? 0 : (this.instantiationOf(enclosing)[sig.index] ?? 0);
        case ET.SZARRAY:
        case ET.ARRAY: {
          const element = this.resolve(sig.element!, module, enclosing, depth + 1);
          return element === 0 ? 0 : (this.constructedTypes().get(`array ${element} ${sig.et === ET.SZARRAY ? "sz" : sig.rank}`) ?? 0);
        }
        case ET.GENERICINST: {
          const definition = this.resolve(sig.definition!, module, enclosing, depth + 1);
          const args = sig.args!.map((x) => this.resolve(x, module, enclosing, depth + 1));
          if (definition === 0 || args.includes(0)) return 0;
          const def = this.shapeOf(definition);
          if (def.kind !== "class") return 0;
          return this.constructedTypes().get(`class ${def.module} ${def.token} ${args.join(",")}`) ?? 0;
        }
        default: {
          const name = PRIMITIVE_TYPES[sig.et];
          if (!name) return 0;
          const corelib = this.coreLib();
          const md = corelib ? this.metadata(corelib) : undefined;
          const rid = md?.findTypeDef("System", name) ?? 0;
          return rid === 0 ? 0 : this.loader.lookupMapElement(this.loader.module(corelib!).maps.typeDefToMethodTable, rid).value;
        }
      }
    } catch (e) {
      if (e instanceof ClrscopeError) return 0;
      throw e;
    }
  }

  private constructed?: Map<string, number>;

  /**
   * Every array and generic instantiation the runtime loaded, by what it is built from (the
   * modules' AvailableTypeParams tables): a type lives in the table of the loader module the
   * runtime chose for it, which may be any module of its parts, so all are read once.
   */
  private constructedTypes(): Map<string, number> {
    if (this.constructed) return this.constructed;
    const out = new Map<string, number>();
    for (const module of this.loader.moduleAddresses()) {
      let handles: number[];
      try {
        handles = this.loader.availableTypeParams(module);
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
        warn(`the constructed types of module 0x${module.toString(16)} cannot be read: ${e.message}`);
        continue;
      }
      for (const handle of handles) {
        if ((handle & 2) !== 0) continue; // a TypeDesc (pointer, byref): no field's MethodTable
        try {
          const shape = this.shapeOf(handle);
          if (shape.kind === "array") out.set(`array ${shape.elementType} ${shape.sz ? "sz" : shape.rank}`, handle);
          else if (shape.kind === "class" && shape.instantiation.length > 0 && !shape.isGenericTypeDefinition) out.set(`class ${shape.module} ${shape.token} ${shape.instantiation.join(",")}`, handle);
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
        }
      }
    }
    this.constructed = out;
    return out;
  }

  private coreLib(): number | undefined {
    if (this.coreLibModule === undefined) {
      this.coreLibModule = this.loader.moduleAddresses().find((m) => this.metadata(m)?.assemblyName() === CORLIB) ?? null;
    }
    return this.coreLibModule ?? undefined;
  }

  private readValue(et: number, at: number): FieldValue {
    const size = elementSize(et);
    if (size === 0) return { kind: "struct", address: at, fields: [] };
    const bytes = this.t.memory.tryRead(at, size);
    if (!bytes) return { kind: "unavailable", reason: `memory at 0x${at.toString(16)} is not in the dump` };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (et) {
      case ET.BOOLEAN: return { kind: "bool", value: dv.getUint8(0) !== 0 };
      case ET.CHAR: return { kind: "char", value: dv.getUint16(0, true) };
      case ET.I1: return { kind: "int", value: dv.getInt8(0) };
      case ET.U1: return { kind: "int", value: dv.getUint8(0) };
      case ET.I2: return { kind: "int", value: dv.getInt16(0, true) };
      case ET.U2: return { kind: "int", value: dv.getUint16(0, true) };
      case ET.I4: return { kind: "int", value: dv.getInt32(0, true) };
      case ET.U4: return { kind: "int", value: dv.getUint32(0, true) };
      case ET.I8: return { kind: "int", value: dv.getBigInt64(0, true).toString() };
      case ET.U8: return { kind: "int", value: dv.getBigUint64(0, true).toString() };
      case ET.R4: return { kind: "float", value: dv.getFloat32(0, true) };
      case ET.R8: return { kind: "float", value: dv.getFloat64(0, true) };
      case ET.I: case ET.U: case ET.PTR: case ET.FNPTR: return { kind: "pointer", value: "0x" + dv.getBigUint64(0, true).toString(16) };
      default: {
        const v = this.t.memory.tryReadPointer(at);
        return Number.isNaN(v) ? { kind: "unavailable", reason: `the reference at 0x${at.toString(16)} is no address` } : { kind: "ref", value: v };
      }
    }
  }
}

/** A type in a signature (ECMA-335 II.23.2.12), as far as a field's type needs it. */
interface SigType {
  et: number;
  /** CLASS/VALUETYPE: TypeDef, TypeRef or TypeSpec token. */
  token?: number;
  /** VAR/MVAR: the generic parameter's index. */
  index?: number;
  /** SZARRAY/ARRAY/PTR/BYREF: the element type. */
  element?: SigType;
  /** ARRAY: its rank. */
  rank?: number;
  /** GENERICINST: the generic type (CLASS/VALUETYPE) and its arguments. */
  definition?: SigType;
  args?: SigType[];
}

/** The type at `i`, and where it ends; undefined when it is cut short or one this reader does not decode (FNPTR). */
function parseType(sig: Uint8Array, i: number, depth: number): { type: SigType; end: number } | undefined {
  if (depth > MAX_SIGNATURE_DEPTH) return undefined;
  while (sig[i] === ET.CMOD_REQD || sig[i] === ET.CMOD_OPT) i += 1 + compressedLength(sig, i + 1);
  const et = sig[i];
  if (et === undefined) return undefined;
  i++;
  switch (et) {
    case ET.CLASS:
    case ET.VALUETYPE: {
      const coded = decompress(sig, i);
      if (coded === undefined) return undefined;
      const table = [0x02, 0x01, 0x1b][coded & 3]!;
      return { type: { et, token: ((table << 24) | (coded >>> 2)) >>> 0 }, end: i + compressedLength(sig, i) };
    }
    case ET.VAR:
    case ET.MVAR: {
      const index = decompress(sig, i);
      return index === undefined ? undefined : { type: { et, index }, end: i + compressedLength(sig, i) };
    }
    case ET.SZARRAY:
    case ET.PTR:
    case ET.BYREF: {
      const element = parseType(sig, i, depth + 1);
      return element && { type: { et, element: element.type }, end: element.end };
    }
    case ET.ARRAY: {
      const element = parseType(sig, i, depth + 1);
      if (!element) return undefined;
      let at = element.end;
      const rank = decompress(sig, at);
      if (rank === undefined) return undefined;
      at += compressedLength(sig, at);
      for (let list = 0; list < 2; list++) {
        // Sizes, then lower bounds: a count, then that many compressed integers.
        const count = decompress(sig, at);
        if (count === undefined) return undefined;
        at += compressedLength(sig, at);
        for (let k = 0; k < count; k++) at += compressedLength(sig, at);
      }
      return { type: { et, element: element.type, rank }, end: at };
    }
    case ET.GENERICINST: {
      const definition = parseType(sig, i, depth + 1);
      if (!definition) return undefined;
      let at = definition.end;
      const count = decompress(sig, at);
      if (count === undefined) return undefined;
      at += compressedLength(sig, at);
      const args: SigType[] = [];
      for (let k = 0; k < count; k++) {
        const arg = parseType(sig, at, depth + 1);
        if (!arg) return undefined;
        args.push(arg.type);
        at = arg.end;
      }
      return { type: { et, definition: definition.type, args }, end: at };
    }
    case ET.FNPTR:
      return { type: { et }, end: sig.length };
    default:
      return { type: { et }, end: i };
  }
}

/** Bytes a compressed unsigned integer (ECMA-335 II.23.2) at `i` takes. */
function compressedLength(sig: Uint8Array, i: number): number {
  const b = sig[i] ?? 0;
  return (b & 0x80) === 0 ? 1 : (b & 0xc0) === 0x80 ? 2 : 4;
}

function decompress(sig: Uint8Array, i: number): number | undefined {
  const b = sig[i];
  if (b === undefined) return undefined;
  if ((b & 0x80) === 0) return b;
  if ((b & 0xc0) === 0x80) return ((b & 0x3f) << 8) | (sig[i + 1] ?? 0);
  return (((b & 0x1f) << 24) | ((sig[i + 1] ?? 0) << 16) | ((sig[i + 2] ?? 0) << 8) | (sig[i + 3] ?? 0)) >>> 0;
}
