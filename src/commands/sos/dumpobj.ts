// `dumpobj`/`do <object>` (SOS DumpObj -> PrintObj, strike.cpp): an object's type, MethodTable,
// size and module file (EEClass in JSON only, as SOS prints none); a string's text; an array's
// rank, length, element kind and (bytes, chars) content; a RuntimeType's type. Fields: .NET 10's
// data descriptor publishes no FieldDesc layout, only the String and System.Exception fields;
// every type's fields come from the runtime's DAC (SOS's DisplayFields: parents' fields first,
// statics and thread statics included, SOS's value formats) when it can be loaded, and are
// otherwise the descriptor's only.
import { ClrscopeError, CommandError, tryOrUndefined } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { warn } from "../../warnings.js";
import type { ClrRuntime, ExceptionField } from "../../runtime/clr-runtime.js";
import type { ManagedNames } from "../../runtime/managed-names.js";
import type { FieldValue, ManagedField, ObjectReader } from "../../runtime/model.js";
import { checkObject, objectTypeName, type TypeNamer } from "../../runtime/objects.js";
import type { MetadataReader } from "../../metadata/metadata.js";
import { ET } from "../../metadata/signatures.js";
import { nameParts, primitiveTypeName } from "../../metadata/type-names.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, parseNumber, type Session } from "../command.js";
import { T, token, tokenRid, tokenTable } from "../../metadata/tables.js";
import { isMethodTableHandle } from "../../runtime/type-handle.js";

export interface DumpobjField {
  /** Field name as the metadata (or, for descriptor-published fields, the descriptor) spells it. */
  name: string;
  /**
   * SOS's Offset column: from the object's address for instance fields; for statics their offset
   * in the type's static storage plus the object header, as SOS adds it; thread statics without.
   */
  offset: number;
  /** FieldDef token ("0x04xxxxxx"). */
  token?: string;
  /**
   * How `value` reads: "ref" and "pointer" "0x...", "int32"/"int" decimal (64-bit ones too),
   * "char" the UTF-16 code unit in decimal, "float" a JS number, "bool" "true"/"false",
   * "struct" the embedded value type's address (a static struct: its static's address),
   * "unallocated" "" (a static whose type's statics are not allocated yet), "perThread" ""
   * (a thread static: see `threadValues`), "unavailable" "" (see `note`).
   */
  kind: "ref" | "int32" | "char" | "int" | "float" | "bool" | "pointer" | "struct" | "unallocated" | "perThread" | "unavailable";
  value: string;
  /** Thread statics: the value on each thread that has the type's thread statics allocated. */
  threadValues?: { osThreadId: number; kind: DumpobjField["kind"]; value: string }[];
  /** For non-null references: the referenced object's type. */
  valueType?: string;
  /** For references to strings: the text (at most 256 chars). */
  string?: string;
  /** DAC fields (SOS DisplayFields columns): the field type's MethodTable ("0x0" when not loaded). */
  methodTable?: string;
  /** The field's declared type. */
  type?: string;
  /** SOS's VT column: the field holds a value type (primitives included). */
  isValueType?: boolean;
  /** SOS's Attr column. */
  attr?: "instance" | "static" | "TLstatic";
  /** The type that declares the field (it may be a parent of the object's type). */
  declaringType?: string;
  /** Embedded value types: their fields, offsets from the struct's start. */
  fields?: DumpobjField[];
  /** DAC fields: where the value lives ("0x..."; statics in the type's static storage), absent when unknown. */
  address?: string;
  /** Why there is no value ("unavailable"). */
  note?: string;
  /** A generic instantiation's static the DAC cannot locate before .NET 9 (SOS: "dynamic statics NYI"). */
  dynamicStatics?: boolean;
}

export interface DumpobjResult {
  address: string;
  name: string;
  methodTable: string;
  eeClass: string;
  /** Set when the MethodTable is not canonical (generic instantiation). */
  canonicalMethodTable?: string;
  /** Bytes: BaseSize plus ComponentSize * length for strings and arrays. */
  size: number;
  /** Full path of the type's module ("" when unknown). */
  file: string;
  isFree: boolean;
  /** Strings: the text. */
  string?: string;
  /**
   * A System.RuntimeType (or its RuntimeTypeCache): the type it stands for, from its m_handle field
   * (SOS's PrintRuntimeTypeInfo): a MethodTable with its name, or a TypeDesc.
   */
  runtimeType?: { methodTable: string; name: string } | { typeDesc: string };
  array?: {
    rank: number | null;
    length: number;
    elementTypeHandle: string;
    elementType: string;
    /** The elements' CorElementType as the runtime stores it (SOS's `Type` on the Array line), when known. */
    elementKind?: number;
    /** Arrays of bytes and chars: their first elements as SOS shows them (non-printable as "."). */
    content?: string;
  };
  /** The fields listed (from the descriptor or the DAC); null when they cannot be listed. */
  fields: DumpobjField[] | null;
  /** Where the fields come from. */
  fieldsSource?: "descriptor" | "dac" | "contracts";
  /** Which fields are listed, or why none are. */
  fieldsNote: string;
  /** Where listing the fields stopped early (SOS: "Unable to display fields"). */
  fieldsFailure?: string;
  /** `-nofields`: the Fields section is left out. */
  noFields?: boolean;
}

/** Array elements shown on SOS's Content line at most. */
const ARRAY_CONTENT_CHARS = 128;

/** SOS's Content line: bytes or UTF-16 units, each outside printable ASCII shown as ".". */
function arrayContent(bytes: Uint8Array, wide: boolean): string {
  let out = "";
  const step = wide ? 2 : 1;
  for (let i = 0; i + step <= bytes.length; i += step) {
    const c = wide ? bytes[i]! | (bytes[i + 1]! << 8) : bytes[i]!;
    out += c >= 32 && c <= 126 ? String.fromCharCode(c) : ".";
  }
  return out;
}

const STRING_PREVIEW = 256;

/** A reference field's object: its type name and, for strings, text. */
function describeRef(rt: ClrRuntime, names: ManagedNames, ref: number, nameOf?: TypeNamer): { valueType?: string; string?: string } {
  if (ref === 0) return {};
  try {
    const objects = rt.objects();
    const mt = objects.methodTableOf(ref);
    const info = objects.info(ref);
    return { valueType: objectTypeName(rt, names, mt, nameOf), string: info.isString ? objects.stringValue(ref, STRING_PREVIEW) : undefined };
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    return { valueType: "<invalid object>" };
  }
}

/** FieldDef tokens of System.Exception's fields by name, from CoreLib's metadata. */
function exceptionFieldTokens(rt: ClrRuntime, names: ManagedNames, exceptionMT: number): Map<string, number> {
  const out = new Map<string, number>();
  const mt = rt.methodTable(exceptionMT);
  const md = names.moduleMetadata(mt.module);
  if (!md || tokenTable(mt.token) !== T.TypeDef) return out;
  try {
    for (const rid of md.fields(tokenRid(mt.token))) out.set(md.fieldName(rid), token(T.Field, rid));
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
  }
  return out;
}

/** The System.Exception MethodTable `methodTable` is or derives from (0 if none). */
function exceptionBase(rt: ClrRuntime, methodTable: number): number {
  let mt = methodTable;
  const objects = rt.objects();
  for (let depth = 0; mt !== 0 && depth < 256; depth++) {
    if (objects.isException(mt) && !objects.isException(rt.methodTable(mt).parent)) return mt;
    mt = rt.methodTable(mt).parent;
  }
  return 0;
}

export function exceptionFields(rt: ClrRuntime, names: ManagedNames, address: number, methodTable: number): DumpobjField[] {
  const tokens = exceptionFieldTokens(rt, names, exceptionBase(rt, methodTable));
  return rt.objects().exception(address).fields.map((f: ExceptionField) => {
    const token = tokens.get(f.name);
    const field: DumpobjField = { name: f.name, offset: f.offset, kind: f.kind, value: f.kind === "ref" ? hexAddress(f.value) : String(f.value) };
    if (token !== undefined) field.token = hexAddress(token);
    if (f.kind === "ref") Object.assign(field, describeRef(rt, names, f.value));
    return field;
  });
}

export function dumpObject(session: Session, address: number): DumpobjResult {
  const rt = clrRuntime(session);
  const names = session.managed.names;
  checkObject(rt, address);
  // Types are named by the session's type source: the contracts where this runtime's descriptor
  // can name them, else the DAC (.NET 9's descriptor cannot name generic instantiations).
  const nameOf: TypeNamer = (mt) => session.managed.typeSource().typeName(mt);
  const objects = rt.objects();
  const info = objects.info(address);
  const d = rt.typeSystemDetails().methodTableDetails(info.methodTable);
  const result: DumpobjResult = {
    address: hexAddress(address),
    name: objectTypeName(rt, names, info.methodTable, nameOf),
    methodTable: hexAddress(info.methodTable),
    eeClass: hexAddress(d.eeClass),
    size: info.size,
    file: d.module ? rt.module(d.module).path : "",
    isFree: info.isFree,
    fields: null,
    fieldsNote: "",
  };
  if (!d.isCanonical) result.canonicalMethodTable = hexAddress(d.canonicalMethodTable);
  if (info.isFree) {
    result.fieldsNote = "Free Object";
    return result;
  }
  let dacFailure: string | undefined;
  if (info.isArray) {
    const a = objects.arrayInfo(address);
    const elementType = isMethodTableHandle(a.elementTypeHandle) ? objectTypeName(rt, names, a.elementTypeHandle, nameOf) : "<TypeDesc>";
    result.array = { rank: a.rank ?? null, length: a.length, elementTypeHandle: hexAddress(a.elementTypeHandle), elementType };
    // The elements' CorElementType and a multi-dimensional array's rank (the DAC's GetObjectData).
    const shape = session.managed.arrayShape(address);
    if (shape) {
      result.array.rank = shape.rank || result.array.rank;
      result.array.elementKind = shape.elementType;
    }
    const kind = result.array.elementKind;
    if (kind === ET.I1 || kind === ET.U1 || kind === ET.CHAR) {
      const wide = kind === ET.CHAR;
      const count = Math.min(a.length, ARRAY_CONTENT_CHARS);
      const bytes = session.process.memory.tryRead(a.dataAddress, count * (wide ? 2 : 1));
      if (bytes) result.array.content = arrayContent(bytes, wide);
    }
    result.fields = [];
    result.fieldsSource = "dac";
    result.fieldsNote = "array";
    return result;
  }
  // Every field, statics included, as SOS lists them (the DAC's FieldDescs: .NET 10's descriptor publishes none).
  const answer = session.managed.instanceFields(info.methodTable, address);
  if ("fields" in answer) {
    const naming: FieldNaming = { metadata: (m) => names.moduleMetadata(m), typeName: (mt) => answer.typeName(mt), describeRef: (ref) => describeRef(rt, names, ref, nameOf) };
    if (info.isString) result.string = objects.stringValue(address);
    listFields(result, naming, answer);
    addRuntimeType(result, naming, (o) => {
      const a = session.managed.instanceFields(objects.methodTableOf(o), o);
      return "fields" in a ? a.fields.map((f) => dacField(naming, f)) : undefined;
    });
    return result;
  }
  dacFailure = answer.error;
  if (info.isString) {
    result.string = objects.stringValue(address);
    const layout = objects.stringLayout();
    result.fields = [
      { name: "m_StringLength", offset: layout.lengthOffset, kind: "int32", value: String(info.components) },
      { name: "m_FirstChar", offset: layout.firstCharOffset, kind: "char", value: String(info.components > 0 ? result.string.charCodeAt(0) : 0) },
    ];
    result.fieldsSource = "descriptor";
    result.fieldsNote = "the String fields this runtime's data descriptor publishes";
  } else {
    if (objects.isException(info.methodTable)) {
      result.fields = exceptionFields(rt, names, address, info.methodTable);
      result.fieldsSource = "descriptor";
      result.fieldsNote = `the System.Exception fields this runtime's data descriptor publishes; fields of derived types need the DAC: ${dacFailure}`;
    } else {
      result.fieldsNote = `this runtime's data descriptor does not publish the FieldDesc layout and the DAC is not available (${dacFailure}), so fields cannot be listed`;
    }
  }
  return result;
}

/** An object's fields into `result` (SOS DisplayFields), with where the walk stopped if it did. */
function listFields(result: DumpobjResult, naming: FieldNaming, list: { fields: ManagedField[]; failure?: string; from: string; backend?: string }): void {
  result.fields = list.fields.map((f) => dacField(naming, f));
  if (list.failure) {
    // Damaged runtime data: SOS's "Unable to display fields" line, and a warning that says why.
    result.fieldsFailure = list.failure;
    warn(`the field list stops early: ${list.failure}`);
  }
  // The runtime's FieldDescs, read by the DAC or (.NET 11) by the contracts.
  result.fieldsSource = list.backend === "contracts" ? "contracts" : "dac";
  result.fieldsNote = `fields from ${list.from}`;
}

/** TypeHandle bit 1: a TypeDesc, not a MethodTable (RUNTIMETYPE_HANDLE_IS_TYPEDESC). */
const TYPE_HANDLE_TYPEDESC = 2;

/**
 * SOS's PrintRuntimeTypeInfo: for a System.RuntimeType, the type its m_handle field stands for;
 * for a RuntimeTypeCache, that of its m_runtimeType (whose fields `fieldsOf` lists).
 */
function addRuntimeType(result: DumpobjResult, naming: FieldNaming, fieldsOf: (object: number) => DumpobjField[] | undefined): void {
  const instanceField = (fields: DumpobjField[] | null | undefined, name: string, kind: DumpobjField["kind"]) =>
    fields?.find((f) => f.name === name && f.attr === "instance" && f.kind === kind);
  let fields: DumpobjField[] | null | undefined = result.fields;
  if (result.name === "System.RuntimeType+RuntimeTypeCache") {
    const ref = instanceField(fields, "m_runtimeType", "ref");
    const runtimeType = ref ? Number(ref.value) : 0;
    fields = runtimeType === 0 ? undefined : tryOrUndefined(() => fieldsOf(runtimeType));
  } else if (result.name !== "System.RuntimeType") return;
  const handleField = instanceField(fields, "m_handle", "pointer");
  if (!handleField) return;
  const handle = Number(BigInt(handleField.value));
  if (handle & TYPE_HANDLE_TYPEDESC) {
    result.runtimeType = { typeDesc: hexAddress(handle - TYPE_HANDLE_TYPEDESC) };
    return;
  }
  let name: string;
  try {
    name = naming.typeName(handle);
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    name = `<Unloaded Type ${hexAddress(handle)}>`;
  }
  result.runtimeType = { methodTable: hexAddress(handle), name };
}

/** dumpobj from an object reader alone (the DAC's, for runtimes without a data-contract descriptor: .NET 8 and older). */
export function dumpObjectWithReader(dac: ObjectReader, address: number): DumpobjResult {
  const o = dac.object(address);
  const mt = dac.methodTable(o.methodTable);
  const result: DumpobjResult = {
    address: hexAddress(address),
    name: o.kind === "free" ? "Free" : dac.typeName(o.methodTable),
    methodTable: hexAddress(o.methodTable),
    eeClass: hexAddress(mt.eeClass),
    size: o.size,
    file: mt.module ? dac.modulePath(mt.module) : "",
    isFree: o.kind === "free",
    fields: null,
    fieldsNote: "",
  };
  if (result.isFree) {
    result.fieldsNote = "Free Object";
    return result;
  }
  const naming: FieldNaming = {
    metadata: (m) => dac.moduleMetadata(m),
    typeName: (mt) => dac.typeName(mt),
    describeRef: (ref) => {
      try {
        const r = dac.object(ref);
        return { valueType: dac.typeName(r.methodTable), string: r.kind === "string" ? dac.stringValue(ref, STRING_PREVIEW) : undefined };
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
        return { valueType: "<invalid object>" };
      }
    },
  };
  if (o.kind === "array") {
    const handle = o.elementTypeHandle;
    const elementType = isMethodTableHandle(handle) ? dac.typeName(handle) : primitiveTypeName(o.elementType) ?? "<TypeDesc>";
    result.array = { rank: o.rank || null, length: o.components, elementTypeHandle: hexAddress(handle), elementType, elementKind: o.elementType };
    if (o.elementType === ET.I1 || o.elementType === ET.U1 || o.elementType === ET.CHAR) {
      const wide = o.elementType === ET.CHAR;
      const count = Math.min(o.components, ARRAY_CONTENT_CHARS);
      const bytes = dac.tryRead(o.arrayData, count * (wide ? 2 : 1));
      if (bytes) result.array.content = arrayContent(bytes, wide);
    }
    result.fields = [];
    result.fieldsSource = "dac";
    result.fieldsNote = "array";
    return result;
  }
  if (o.kind === "string") result.string = dac.stringValue(address, 1 << 20);
  const list = dac.fieldList(o.methodTable, address);
  if (list.failure && list.fields.length === 0) throw new ClrscopeError("dac-fields", list.failure);
  listFields(result, naming, { ...list, from: `the DAC ${dac.from}` });
  addRuntimeType(result, naming, (o) => dac.fieldList(dac.object(o).methodTable, o).fields.map((f) => dacField(naming, f)));
  return result;
}

/** SOS's ElementTypeName for element types without a type name. */
const ELEMENT_TYPE_NAMES: Record<number, string> = {
  [ET.PTR]: "PTR", [ET.BYREF]: "BYREF", [ET.VALUETYPE]: "VALUETYPE", [ET.CLASS]: "CLASS", [ET.VAR]: "VAR",
  [ET.ARRAY]: "ARRAY", [ET.FNPTR]: "FNPTR", [ET.SZARRAY]: "SZARRAY", [ET.MVAR]: "MVAR",
};

/** SOS's ElementTypeName: the element type's name without namespace ("Int32", "CLASS", "VALUETYPE"). */
function sosElementTypeName(et: number): string {
  return ELEMENT_TYPE_NAMES[et] ?? primitiveTypeName(et)?.replace(/^System\./, "") ?? "";
}

/** What turning DAC fields into rows needs from a backend: module metadata (names) and referenced objects. */
interface FieldNaming {
  metadata(module: number): MetadataReader | undefined;
  /** SOS's name of a type (the DAC's GetMethodTableName); throws ClrscopeError when it has none. */
  typeName(methodTable: number): string;
  describeRef(ref: number): { valueType?: string; string?: string };
}

/** A TypeDef's name as SOS's NameForToken spells it: namespace, enclosing types joined by "+". */
function typeDefFullName(md: MetadataReader, rid: number): string {
  const { chain } = nameParts(md, token(T.TypeDef, rid));
  return chain.map(([ns, name]) => (ns ? `${ns}.${name}` : name)).join("+");
}

/** A DAC field's Type column as SOS DisplayFields computes it. */
function dacFieldType(naming: FieldNaming, f: ManagedField): string {
  try {
    if ((f.elementType === ET.VALUETYPE || f.elementType === ET.CLASS) && f.typeMethodTable !== 0) return naming.typeName(f.typeMethodTable);
    if (f.elementType === ET.CLASS && tokenRid(f.typeToken) !== 0) {
      const md = naming.metadata(f.module);
      const rid = tokenRid(f.typeToken);
      if (md) return typeDefFullName(md, rid);
    }
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
  }
  const et = f.elementType !== f.sigElementType ? f.sigElementType : f.elementType;
  return primitiveTypeName(et) ?? ELEMENT_TYPE_NAMES[et] ?? "";
}

/** SOS's IsElementValueType: the VT column. */
function isElementValueType(et: number): boolean {
  return (et >= ET.BOOLEAN && et <= ET.R8) || et === ET.VALUETYPE || et === ET.I || et === ET.U;
}

/** A DAC value as a row's kind and value text (see DumpobjField). */
function dacValue(v: FieldValue): Pick<DumpobjField, "kind" | "value" | "note" | "dynamicStatics"> {
  switch (v.kind) {
    case "ref":
      return { kind: "ref", value: hexAddress(v.value) };
    case "struct":
      return { kind: "struct", value: hexAddress(v.address) };
    case "unallocated":
      return { kind: "unallocated", value: "" };
    case "perThread":
      return { kind: "perThread", value: "" };
    case "unavailable":
      return { kind: "unavailable", value: "", note: v.reason, ...(v.dynamicStatics ? { dynamicStatics: true } : {}) };
    default:
      return { kind: v.kind, value: String(v.value) };
  }
}

function dacField(naming: FieldNaming, f: ManagedField): DumpobjField {
  let name = `<field 0x${f.token.toString(16)}>`;
  try {
    const md = naming.metadata(f.module);
    if (md) name = md.fieldName(tokenRid(f.token));
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
  }
  const out: DumpobjField = {
    name,
    offset: f.offset,
    token: hexAddress(f.token),
    kind: "unavailable",
    value: "",
    methodTable: hexAddress(f.typeMethodTable),
    type: dacFieldType(naming, f),
    isValueType: isElementValueType(f.elementType),
    attr: f.isThreadStatic ? "TLstatic" : f.isStatic ? "static" : "instance",
  };
  if (f.address !== 0) out.address = hexAddress(f.address);
  try {
    out.declaringType = naming.typeName(f.declaringMethodTable);
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
  }
  const v = f.value;
  Object.assign(out, dacValue(v));
  if (v.kind === "ref" && v.value !== 0) Object.assign(out, naming.describeRef(v.value));
  if (v.kind === "struct" && v.fields.length > 0) out.fields = v.fields.map((x) => dacField(naming, x));
  if (v.kind === "perThread") out.threadValues = v.values.map((t) => ({ osThreadId: t.osThreadId, ...dacValue(t.value) }));
  return out;
}

/** C's %f, which SOS prints floating-point fields with: six decimals, "nan"/"inf" spelled as glibc does. */
function cFixed(text: string): string {
  const x = Number(text);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0 && Object.is(x, -0)) return "-0.000000";
  // toFixed switches to exponent notation from 1e21; %f never does.
  if (Math.abs(x) < 1e21) return x.toFixed(6);
  const whole = BigInt(Math.trunc(x)).toString();
  return `${whole}.000000`;
}

/**
 * A value as SOS's DisplayDataMember prints it: aligned (a row's Value column, 16 wide) or not (a
 * thread static's per-thread value): integers and booleans in decimal, chars in hex, floating
 * point with %f (never padded), references, pointers and structs as 16 hex digits.
 */
function fieldValueText(kind: DumpobjField["kind"], value: string, aligned: boolean): string {
  const pad = (t: string) => (aligned ? t.padStart(16) : t);
  switch (kind) {
    case "ref":
    case "struct":
      return hexDigits(BigInt(value), 16);
    case "pointer":
      // SOS prints native-sized integers with %p, which its output layer writes in upper case.
      return hexDigits(BigInt(value), 16).toUpperCase();
    case "bool":
      return pad(value === "true" ? "1" : "0");
    case "char":
      return pad(Number(value).toString(16));
    case "float":
      return cFixed(value);
    case "unallocated":
      return " ".repeat(16);
    case "unavailable":
      return "<no information>";
    case "perThread":
      return "";
    default:
      return pad(value);
  }
}

/** SOS DisplayFields: MT, Field, Offset, Type, VT, Attr, Value, Name; each thread static's values below it. */
export function renderDacFields(fields: DumpobjField[]): string[] {
  const lines = [`${"MT".padStart(16)} ${"Field".padStart(8)} ${"Offset".padStart(8)} ${"Type".padStart(20)} ${"VT".padStart(4)} ${"Attr".padStart(8)} ${"Value".padStart(16)} Name`];
  for (const f of fields) {
    const type = f.type ?? "";
    const shown = type.length > 20 ? "..." + type.slice(type.length - 17) : type;
    const row = `${hexDigits(BigInt(f.methodTable ?? "0"), 16)} ${hexDigits(BigInt(f.token ?? "0"), 8)} ${f.offset.toString(16).padStart(8)} ${shown.padStart(20)} ${(f.isValueType ? "Yes" : "No").padStart(4)} ${(f.attr ?? "").padStart(8)}`;
    if (f.attr === "TLstatic") {
      // SOS: no Value column; the values follow, one line per thread that has them, then a blank line.
      lines.push(`${row}  ${f.name}`);
      if (f.kind === "unavailable") {
        lines.push(" <no information>");
        continue;
      }
      lines.push("    Thread static values (Thread:Value)");
      for (const t of f.threadValues ?? []) lines.push(`        ${t.osThreadId.toString(16)}:${fieldValueText(t.kind, t.value, false)}`);
      lines.push("");
      continue;
    }
    if (f.kind === "unavailable" && f.attr === "static") {
      // SOS names no field it cannot locate; before .NET 9 it says why for dynamic statics.
      lines.push(`${row} ${f.dynamicStatics ? "dynamic statics NYI" : ""} <no information>`);
      continue;
    }
    lines.push(`${row} ${fieldValueText(f.kind, f.value, true)} ${f.name}`);
  }
  return lines;
}

export function renderFields(fields: DumpobjField[]): string[] {
  const lines = [`${"Offset".padStart(8)} ${"Type".padStart(20)} ${"Value".padStart(16)} Name`];
  for (const f of fields) {
    const type = f.kind === "int32" ? "System.Int32" : f.kind === "char" ? "System.Char" : f.valueType ?? "";
    const shown = type.length > 20 ? "..." + type.slice(type.length - 17) : type;
    const value = f.kind === "ref" ? hexDigits(parseInt(f.value, 16), 16) : f.value;
    lines.push(`${f.offset.toString(16).padStart(8)} ${shown.padStart(20)} ${value.padStart(16)} ${f.name}${f.string !== undefined ? ` "${f.string}"` : ""}`);
  }
  return lines;
}

export const dumpobj = defineCommand<DumpobjResult>({
  names: ["dumpobj", "do"],
  summary: "SOS: an object's type, MethodTable, size and module; strings, arrays, exception fields",
  usage: "dumpobj ADDRESS",
  run(session, args) {
    const a = parseArgs(args.map((x) => x.toLowerCase() === "-nofields" ? "-nofields" : x), [], ["-nofields"]);
    if (a.positional.length !== 1) throw new CommandError("Missing object address (usage: dumpobj ADDRESS)", "usage");
    const address = parseNumber(a.positional[0]!);
    const reader = session.managed.dacObjects();
    const r = reader ? dumpObjectWithReader(reader, address) : dumpObject(session, address);
    if (a.switches.has("-nofields")) {
      r.fields = null;
      r.noFields = true;
    }
    return r;
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    if (r.isFree) return [`Free Object`, `Size:        ${r.size}(0x${r.size.toString(16)}) bytes`].join("\n");
    // SOS's PrintObj: no EEClass line (JSON has it), an Array line instead of File for arrays.
    const lines = [`Name:        ${r.name}`, `MethodTable: ${p(r.methodTable)}`, `Size:        ${r.size}(0x${r.size.toString(16)}) bytes`];
    const rtype = r.runtimeType;
    if (rtype && "typeDesc" in rtype) lines.push(`TypeDesc:    ${p(rtype.typeDesc).toUpperCase()}`);
    else if (rtype) lines.push(`Type Name:   ${rtype.name}`, `Type MT:     ${p(rtype.methodTable)}`);
    if (r.array) {
      const type = r.array.elementKind !== undefined ? sosElementTypeName(r.array.elementKind) : r.array.elementType;
      lines.push(`Array:       Rank ${r.array.rank ?? "?"}, Number of elements ${r.array.length}, Type ${type}`);
      if (r.array.content !== undefined) lines.push(`Content:     ${r.array.content}`);
    } else {
      lines.push(`File:        ${r.file || "Unknown Module"}`);
    }
    if (r.string !== undefined) lines.push(`String:      ${r.string}`);
    if (r.noFields) return lines.join("\n");
    lines.push("Fields:");
    if (r.fields && r.fields.length > 0 && (r.fieldsSource === "dac" || r.fieldsSource === "contracts")) {
      lines.push(...renderDacFields(r.fields));
      if (r.fieldsFailure) lines.push("Unable to display fields");
    } else if (r.fields && r.fields.length > 0) {
      lines.push(`(${r.fieldsNote})`);
      lines.push(...renderFields(r.fields));
    } else {
      lines.push(r.fieldsSource === "dac" || r.fieldsSource === "contracts" ? "None" : `<${r.fieldsNote || "None"}>`);
    }
    return lines.join("\n");
  },
});
