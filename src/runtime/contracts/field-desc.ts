// A type's fields from the runtime's FieldDescs (RuntimeTypeSystem contract, FieldDesc section;
// .NET 11 publishes the FieldDesc layout): EEClass.FieldDescList holds the type's own instance
// fields, then its statics; DWord1 has the FieldDef token and the static flags, DWord2 the
// CorElementType (top 5 bits) and the offset. Values are read as SOS's DisplayFields reads them,
// the field's type from its metadata signature and the module's TypeDef/TypeRef maps. The result
// has the shape of the DAC's fields, so that dumpobj renders both alike.
import { ClrscopeError, CorruptDataError } from "../../errors.js";
import { ET } from "../../metadata/signatures.js";
import type { MetadataReader } from "../../metadata/metadata.js";
import { MAX_FIELDS_PER_TYPE, MAX_STRUCT_DEPTH } from "../../limits.js";
import type { Loader } from "./loader.js";
import type { RuntimeTypeSystemDetails } from "./runtime-type-system.js";
import type { RuntimeTarget } from "./target.js";

// FieldDesc bits (RuntimeTypeSystem.md, FieldDescFlags1/2).
const TOKEN_MASK = 0xffffff;
const IS_STATIC = 0x1000000;
const IS_THREAD_STATIC = 0x2000000;
const OFFSET_MASK = 0x07ffffff;
const TYPE_SHIFT = 27;

const CORLIB = "System.Private.CoreLib";
/** CoreLib's types of the primitive element types, whose MethodTable SOS prints for such fields. */
const PRIMITIVE_TYPES: Record<number, string> = {
  [ET.BOOLEAN]: "Boolean", [ET.CHAR]: "Char", [ET.I1]: "SByte", [ET.U1]: "Byte", [ET.I2]: "Int16", [ET.U2]: "UInt16",
  [ET.I4]: "Int32", [ET.U4]: "UInt32", [ET.I8]: "Int64", [ET.U8]: "UInt64", [ET.R4]: "Single", [ET.R8]: "Double",
  [ET.I]: "IntPtr", [ET.U]: "UIntPtr", [ET.STRING]: "String", [ET.OBJECT]: "Object",
};

export type ContractFieldValue =
  | { kind: "int"; value: number | string }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "char"; value: number }
  | { kind: "pointer"; value: string }
  | { kind: "ref"; value: number }
  | { kind: "struct"; address: number; fields: ContractField[] }
  | { kind: "unallocated" }
  | { kind: "unavailable"; reason: string };

/** One field as SOS's DisplayFields lists it (the shape of the DAC backend's fields). */
export interface ContractField {
  declaringMethodTable: number;
  fieldDesc: number;
  /** FieldDef token (0x04xxxxxx). */
  token: number;
  module: number;
  /** CorElementType as the runtime stores the field (CLASS for strings). */
  elementType: number;
  /** CorElementType from the field's signature (STRING for strings). */
  sigElementType: number;
  /** The field type's MethodTable (0 when the type is not loaded or not found). */
  typeMethodTable: number;
  typeToken: number;
  /** From the object's address (instance fields), the struct's start, or the static base. */
  offset: number;
  isStatic: boolean;
  isThreadStatic: boolean;
  address: number;
  value: ContractFieldValue;
}

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
    /** Type arguments (TypeHandles) of a generic instantiation's MethodTable; empty for other types. */
    private readonly instantiationOf: (methodTable: number) => number[],
  ) {}

  /** Whether this runtime's descriptor publishes the FieldDesc layout (.NET 11). */
  static isPublished(t: RuntimeTarget): boolean {
    return t.descriptor.hasField("FieldDesc", "DWord2") && t.descriptor.hasField("EEClass", "FieldDescList");
  }

  /** Every field of the object at `address` of type `methodTable`: the parents' first, each type's instance fields then statics. */
  fields(methodTable: number, address: number, valueType = false, depth = 0): ContractField[] {
    const chain: number[] = [];
    for (let mt = methodTable; mt !== 0 && chain.length < 256; mt = this.types.methodTableDetails(mt).parent) chain.unshift(mt);
    const out: ContractField[] = [];
    for (const mt of chain) out.push(...this.ownFields(mt, address, valueType, depth));
    return out;
  }

  private ownFields(methodTable: number, base: number, valueType: boolean, depth: number): ContractField[] {
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
    const out: ContractField[] = [];
    for (let i = 0; i < own + statics; i++) out.push(this.field(methodTable, d.module, list + i * size, base, valueType, depth));
    return out;
  }

  private field(methodTable: number, module: number, fieldDesc: number, base: number, valueType: boolean, depth: number): ContractField {
    const t = this.t;
    const dword1 = t.u32Field(fieldDesc, "FieldDesc", "DWord1");
    const dword2 = t.u32Field(fieldDesc, "FieldDesc", "DWord2");
    const token = (0x04000000 | (dword1 & TOKEN_MASK)) >>> 0;
    const elementType = dword2 >>> TYPE_SHIFT;
    const rawOffset = dword2 & OFFSET_MASK;
    const isStatic = (dword1 & IS_STATIC) !== 0;
    const isThreadStatic = (dword1 & IS_THREAD_STATIC) !== 0;
    let sig = this.signatureType(module, token);
    if (sig.varIndex !== undefined) {
      // A field of the type's own generic parameter: its type is the enclosing class's argument
      // (System.__Canon in shared code), as the DAC's LookupFieldTypeHandle resolves it.
      const enclosing = t.pointerField(fieldDesc, "FieldDesc", "MTOfEnclosingClass");
      const arg = this.instantiationOf(enclosing)[sig.varIndex] ?? 0;
      sig = { elementType: elementType, resolvedMethodTable: arg !== 0 && (arg & 2) === 0 ? arg : 0 };
    }
    const headerBytes = valueType ? 0 : t.descriptor.size("Object");
    const field: ContractField = {
      declaringMethodTable: methodTable, fieldDesc, token, module, elementType,
      sigElementType: sig.elementType ?? elementType,
      typeMethodTable: sig.resolvedMethodTable ?? this.typeMethodTable(module, elementType, sig),
      typeToken: sig.token ?? 0,
      offset: isStatic ? rawOffset : rawOffset + headerBytes,
      isStatic, isThreadStatic, address: 0,
      value: { kind: "unavailable", reason: "" },
    };
    if (isThreadStatic) {
      field.value = { kind: "unavailable", reason: "thread static (one value per thread): not read from the data contracts yet" };
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
        // A struct static lives boxed in the GC statics: SOS prints the box.
        field.value = this.readValue(elementType === ET.VALUETYPE ? ET.CLASS : elementType, field.address);
      }
      return field;
    }
    field.address = base + rawOffset + headerBytes;
    if (elementType === ET.VALUETYPE) {
      let nested: ContractField[] = [];
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

  /** The field's type from its metadata signature: element type and TypeDef/TypeRef token. */
  private signatureType(module: number, token: number): { elementType?: number; token?: number; varIndex?: number; resolvedMethodTable?: number } {
    let sig: Uint8Array;
    const md = this.metadata(module);
    try {
      if (!md) return {};
      sig = md.fieldSignature(token & TOKEN_MASK);
    } catch (e) {
      if (e instanceof ClrscopeError) return {};
      throw e;
    }
    let i = 1; // FIELD
    while (sig[i] === ET.CMOD_REQD || sig[i] === ET.CMOD_OPT) i += 1 + compressedLength(sig, i + 1);
    const et = sig[i];
    if (et === undefined) return {};
    if (et === ET.VAR) {
      const index = decompress(sig, i + 1);
      return index === undefined ? { elementType: et } : { elementType: et, varIndex: index };
    }
    // A generic instantiation's MethodTable would need the runtime's instantiated-type lookup:
    // left unknown, as the DAC leaves it when the instantiation is not loaded.
    if (et === ET.GENERICINST) return { elementType: et };
    if (et === ET.CLASS || et === ET.VALUETYPE) {
      const coded = decompress(sig, i + 1);
      if (coded === undefined) return { elementType: et };
      const table = [0x02, 0x01, 0x1b][coded & 3]!;
      return { elementType: et, token: ((table << 24) | (coded >>> 2)) >>> 0 };
    }
    return { elementType: et };
  }

  /** The field type's MethodTable, as the DAC's LookupFieldTypeHandle finds it (only types already loaded). */
  private typeMethodTable(module: number, elementType: number, sig: { elementType?: number; token?: number }): number {
    try {
      const m = this.loader.module(module);
      if (sig.token !== undefined && (elementType === ET.CLASS || elementType === ET.VALUETYPE)) {
        const table = sig.token >>> 24;
        const rid = sig.token & TOKEN_MASK;
        if (table === 0x02) return this.loader.lookupMapElement(m.maps.typeDefToMethodTable, rid).value;
        if (table === 0x01) return this.loader.lookupMapElement(m.maps.typeRefToMethodTable, rid).value;
        return 0;
      }
      const name = PRIMITIVE_TYPES[sig.elementType ?? elementType];
      if (!name) return 0;
      const corelib = this.coreLib();
      const md = corelib ? this.metadata(corelib) : undefined;
      const rid = md?.findTypeDef("System", name) ?? 0;
      return rid === 0 ? 0 : this.loader.lookupMapElement(this.loader.module(corelib!).maps.typeDefToMethodTable, rid).value;
    } catch (e) {
      if (e instanceof ClrscopeError) return 0;
      throw e;
    }
  }

  private coreLib(): number | undefined {
    if (this.coreLibModule === undefined) {
      this.coreLibModule = this.loader.moduleAddresses().find((m) => this.metadata(m)?.assemblyName() === CORLIB) ?? null;
    }
    return this.coreLibModule ?? undefined;
  }

  private readValue(et: number, at: number): ContractFieldValue {
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
