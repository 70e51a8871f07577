// `dumpobj`/`do <object>` (SOS DumpObj -> PrintObj, strike.cpp): an object's type, MethodTable,
// EEClass, size and module file; a string's text; an array's length and element type. Fields are
// listed only where the runtime's data descriptor makes them exact: .NET 10 publishes no
// FieldDesc layout, so an arbitrary type's instance fields cannot be enumerated from the dump
// alone. What the descriptor does publish are the String fields and the System.Exception fields.
import { ClrscopeError, CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import type { ClrRuntime } from "../../runtime/clr-runtime.js";
import type { ExceptionField } from "../../runtime/contracts/object.js";
import type { ManagedNames } from "../../runtime/managed-names.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, parseNumber, type Session } from "../command.js";
import { typeNameOf } from "./dumpmt.js";

export interface DumpobjField {
  /** Field name as the descriptor (and, for System.Exception, the metadata) spells it. */
  name: string;
  /** Offset from the object's address (SOS's Offset column). */
  offset: number;
  /** FieldDef token ("0x04xxxxxx") from the declaring type's metadata, when found by name. */
  token?: string;
  kind: "ref" | "int32" | "char";
  /** "0x..." for references, decimal for int32 and char (UTF-16 code unit). */
  value: string;
  /** For non-null references: the referenced object's type. */
  valueType?: string;
  /** For references to strings: the text (at most 256 chars). */
  string?: string;
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
  array?: { rank: number | null; length: number; elementTypeHandle: string; elementType: string };
  /** The fields listed (exact, from the descriptor); null when they cannot be listed. */
  fields: DumpobjField[] | null;
  /** Which fields are listed, or why none are. */
  fieldsNote: string;
}

const STRING_PREVIEW = 256;

/** Whether `address` holds an object: its MethodTable's EEClass points back at the canonical MethodTable. */
export function checkObject(rt: ClrRuntime, address: number): void {
  const bad = () => new CommandError(`${hexAddress(address)} is not a valid object`, "not-an-object");
  try {
    const mt = rt.objects().methodTableOf(address);
    if (mt === 0) throw bad();
    if (!rt.objects().isValidMethodTable(mt)) throw bad();
  } catch (e) {
    if (e instanceof CommandError) throw e;
    if (e instanceof ClrscopeError) throw bad();
    throw e;
  }
}

/** A reference field's object: its type name and, for strings, text. */
function describeRef(rt: ClrRuntime, names: ManagedNames, ref: number): { valueType?: string; string?: string } {
  if (ref === 0) return {};
  try {
    const objects = rt.objects();
    const mt = objects.methodTableOf(ref);
    const info = objects.info(ref);
    return { valueType: objectTypeName(rt, names, mt), string: info.isString ? objects.stringValue(ref, STRING_PREVIEW) : undefined };
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    return { valueType: "<invalid object>" };
  }
}

/** The DAC's type name of an object's MethodTable ("Free" for free space; arrays "System.Int32[]", "System.Int32[,]"). */
export function objectTypeName(rt: ClrRuntime, names: ManagedNames, methodTable: number): string {
  const d = rt.typeSystemDetails().methodTableDetails(methodTable);
  if (d.isFree) return "Free";
  return typeNameOf(names, methodTable);
}

/** FieldDef tokens of System.Exception's fields by name, from CoreLib's metadata. */
function exceptionFieldTokens(rt: ClrRuntime, names: ManagedNames, exceptionMT: number): Map<string, number> {
  const out = new Map<string, number>();
  const mt = rt.methodTable(exceptionMT);
  const md = names.moduleMetadata(mt.module);
  if (!md || mt.token >>> 24 !== 0x02) return out;
  try {
    for (const rid of md.fields(mt.token & 0xffffff)) out.set(md.fieldName(rid), (0x04000000 | rid) >>> 0);
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
  const names = session.names!;
  checkObject(rt, address);
  const objects = rt.objects();
  const info = objects.info(address);
  const d = rt.typeSystemDetails().methodTableDetails(info.methodTable);
  const result: DumpobjResult = {
    address: hexAddress(address),
    name: objectTypeName(rt, names, info.methodTable),
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
  if (info.isString) {
    result.string = objects.stringValue(address);
    const layout = objects.stringLayout();
    result.fields = [
      { name: "m_StringLength", offset: layout.lengthOffset, kind: "int32", value: String(info.components) },
      { name: "m_FirstChar", offset: layout.firstCharOffset, kind: "char", value: String(info.components > 0 ? result.string.charCodeAt(0) : 0) },
    ];
    result.fieldsNote = "the String fields this runtime's data descriptor publishes";
  } else if (info.isArray) {
    const a = objects.arrayInfo(address);
    const elementType = a.elementTypeHandle !== 0 && (a.elementTypeHandle & 2) === 0 ? objectTypeName(rt, names, a.elementTypeHandle) : "<TypeDesc>";
    result.array = { rank: a.rank ?? null, length: a.length, elementTypeHandle: hexAddress(a.elementTypeHandle), elementType };
    result.fieldsNote = "array";
  } else if (objects.isException(info.methodTable)) {
    result.fields = exceptionFields(rt, names, address, info.methodTable);
    result.fieldsNote = "the System.Exception fields this runtime's data descriptor publishes; fields of derived types are not listed (no FieldDesc layout)";
  } else {
    result.fieldsNote = "this runtime's data descriptor does not publish the FieldDesc layout, so instance fields cannot be listed";
  }
  return result;
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
    const r = dumpObject(session, parseNumber(a.positional[0]!));
    if (a.switches.has("-nofields")) r.fields = null;
    return r;
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    if (r.isFree) return [`Free Object`, `Size:        ${r.size}(0x${r.size.toString(16)}) bytes`].join("\n");
    const lines = [`Name:        ${r.name}`, `MethodTable: ${p(r.methodTable)}`];
    lines.push(r.canonicalMethodTable ? `Canonical MethodTable: ${p(r.canonicalMethodTable)}` : `EEClass:     ${p(r.eeClass)}`);
    lines.push("Tracked Type: false");
    lines.push(`Size:        ${r.size}(0x${r.size.toString(16)}) bytes`);
    if (r.array) {
      lines.push(`Array:       Rank ${r.array.rank ?? "?"}, Number of elements ${r.array.length}, Type ${r.array.elementType}`);
      return lines.join("\n");
    }
    lines.push(`File:        ${r.file || "Unknown Module"}`);
    if (r.string !== undefined) lines.push(`String:      ${r.string}`);
    lines.push("Fields:");
    if (r.fields && r.fields.length > 0) {
      lines.push(`(${r.fieldsNote})`);
      lines.push(...renderFields(r.fields));
    } else {
      lines.push(`<${r.fieldsNote || "None"}>`);
    }
    return lines.join("\n");
  },
});
