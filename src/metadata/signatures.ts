// Signature blobs (ECMA-335 II.23.2) decoded into a small type tree: method definition and
// reference signatures (with varargs sentinels), field, property and local-variable signatures,
// TypeSpecs and MethodSpec instantiations. Decoding is bounded by the blob: counts larger than the
// bytes left and nesting deeper than MAX_SIGNATURE_DEPTH are damage (CorruptDataError), never a long loop.
// `formatSignature` renders a tree in one canonical, ILDasm-like text used to compare with
// System.Reflection.Metadata (see test/targets/metadata-oracle/Formatter.cs); SOS display forms
// live in type-names.ts and dumpil.ts.
import { CorruptDataError } from "../errors.js";
import { readCompressed } from "./heaps.js";
import type { MetadataReader } from "./metadata.js";
import { T, token, tokenRid, tokenTable } from "./tables.js";
import { MAX_ARRAY_RANK, MAX_SIGNATURE_DEPTH, MAX_SIGNATURE_EXPANSION } from "../limits.js";

/** CorElementType values (II.23.1.16). */
export const ET = {
  END: 0x00,
  VOID: 0x01,
  BOOLEAN: 0x02,
  CHAR: 0x03,
  I1: 0x04,
  U1: 0x05,
  I2: 0x06,
  U2: 0x07,
  I4: 0x08,
  U4: 0x09,
  I8: 0x0a,
  U8: 0x0b,
  R4: 0x0c,
  R8: 0x0d,
  STRING: 0x0e,
  PTR: 0x0f,
  BYREF: 0x10,
  VALUETYPE: 0x11,
  CLASS: 0x12,
  VAR: 0x13,
  ARRAY: 0x14,
  GENERICINST: 0x15,
  TYPEDBYREF: 0x16,
  I: 0x18,
  U: 0x19,
  FNPTR: 0x1b,
  OBJECT: 0x1c,
  SZARRAY: 0x1d,
  MVAR: 0x1e,
  CMOD_REQD: 0x1f,
  CMOD_OPT: 0x20,
  INTERNAL: 0x21,
  SENTINEL: 0x41,
  PINNED: 0x45,
} as const;

/** Element types that stand alone (no further bytes): the primitives plus object/string/typedref. */
const PRIMITIVE = new Set<number>([
  ET.VOID, ET.BOOLEAN, ET.CHAR, ET.I1, ET.U1, ET.I2, ET.U2, ET.I4, ET.U4, ET.I8, ET.U8, ET.R4, ET.R8, ET.STRING, ET.TYPEDBYREF, ET.I, ET.U, ET.OBJECT,
]);

/** Calling-convention byte (II.23.2.1-3): kind in the low nibble, flags above. */
export const SigKind = {
  default: 0x0,
  c: 0x1,
  stdcall: 0x2,
  thiscall: 0x3,
  fastcall: 0x4,
  vararg: 0x5,
  field: 0x6,
  localSig: 0x7,
  property: 0x8,
  unmanaged: 0x9,
  genericInst: 0xa,
} as const;
export const SIG_GENERIC = 0x10;
export const SIG_HASTHIS = 0x20;
export const SIG_EXPLICITTHIS = 0x40;

export type SigType =
  | { kind: "prim"; et: number }
  /** A TypeDef, TypeRef or TypeSpec token after CLASS/VALUETYPE (or as a modifier). */
  | { kind: "named"; token: number; valueType: boolean }
  | { kind: "generic"; type: SigType; args: SigType[] }
  | { kind: "var"; index: number }
  | { kind: "mvar"; index: number }
  | { kind: "szarray"; elem: SigType }
  | { kind: "array"; elem: SigType; rank: number; sizes: number[]; lowerBounds: number[] }
  | { kind: "ptr"; elem: SigType }
  | { kind: "byref"; elem: SigType }
  | { kind: "pinned"; elem: SigType }
  | { kind: "modified"; required: boolean; modifier: number; elem: SigType }
  | { kind: "fnptr"; sig: MethodSig }
  /** ELEMENT_TYPE_INTERNAL: a runtime TypeHandle (pointer-sized), only in signatures the runtime builds in memory (DynamicMethods, IL stubs). */
  | { kind: "internal"; typeHandle: number };

export interface MethodSig {
  /** The calling-convention byte as stored. */
  header: number;
  hasThis: boolean;
  explicitThis: boolean;
  /** Low nibble of the header (SigKind). */
  callingConvention: number;
  genericParamCount: number;
  returnType: SigType;
  params: SigType[];
  /** Index in `params` of the first optional (vararg) parameter, when the signature has a sentinel. */
  sentinel?: number;
}


/** State of one formatting call: how deep, and how many TypeSpec expansions are left. */
export interface FormatState {
  depth: number;
  budget: number;
}
const freshState = (): FormatState => ({ depth: 0, budget: MAX_SIGNATURE_EXPANSION });

/** A cursor over one signature blob. */
export class SigReader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly what = "signature",
  ) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new CorruptDataError(`${this.what}: ends early at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  peek(): number {
    if (this.pos >= this.bytes.length) throw new CorruptDataError(`${this.what}: ends early at byte ${this.pos}`);
    return this.bytes[this.pos]!;
  }
  compressed(): number {
    const { value, size } = readCompressed(this.bytes, this.pos, this.bytes.length, this.what);
    this.pos += size;
    return value;
  }
  /** A compressed signed integer (array lower bounds): the sign bit is rotated into bit 0. */
  compressedSigned(): number {
    const { value, size } = readCompressed(this.bytes, this.pos, this.bytes.length, this.what);
    this.pos += size;
    const v = value >>> 1;
    if ((value & 1) === 0) return v;
    return size === 1 ? v - 0x40 : size === 2 ? v - 0x2000 : v - 0x1000_0000;
  }
  /** A little-endian 64-bit pointer (ELEMENT_TYPE_INTERNAL's TypeHandle; x86-64 targets). */
  pointer(): number {
    if (this.remaining < 8) throw new CorruptDataError(`${this.what}: ends early at byte ${this.pos}`);
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getBigUint64(0, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CorruptDataError(`${this.what}: TypeHandle 0x${value.toString(16)} is not an address`);
    this.pos += 8;
    return Number(value);
  }
  /** A TypeDefOrRefOrSpecEncoded token (II.23.2.8). */
  typeToken(): number {
    const v = this.compressed();
    const table = [T.TypeDef, T.TypeRef, T.TypeSpec][v & 3];
    if (table === undefined) throw new CorruptDataError(`${this.what}: type token 0x${v.toString(16)} has tag 3`);
    return token(table, v >>> 2);
  }
  /** A count of items of at least one byte each: more than the bytes left is damage. */
  count(what: string): number {
    const n = this.compressed();
    if (n > this.remaining) throw new CorruptDataError(`${this.what}: ${what} count ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }

  type(depth = 0): SigType {
    if (depth > MAX_SIGNATURE_DEPTH) throw new CorruptDataError(`${this.what}: types nest deeper than ${MAX_SIGNATURE_DEPTH}`);
    const et = this.byte();
    if (PRIMITIVE.has(et)) return { kind: "prim", et };
    switch (et) {
      case ET.CLASS:
      case ET.VALUETYPE:
        return { kind: "named", token: this.typeToken(), valueType: et === ET.VALUETYPE };
      case ET.GENERICINST: {
        const head = this.byte();
        if (head !== ET.CLASS && head !== ET.VALUETYPE) throw new CorruptDataError(`${this.what}: GENERICINST of element type 0x${head.toString(16)}`);
        const type: SigType = { kind: "named", token: this.typeToken(), valueType: head === ET.VALUETYPE };
        const n = this.count("generic argument");
        if (n === 0) throw new CorruptDataError(`${this.what}: GENERICINST with no arguments`);
        const args: SigType[] = [];
        for (let i = 0; i < n; i++) args.push(this.type(depth + 1));
        return { kind: "generic", type, args };
      }
      case ET.VAR:
        return { kind: "var", index: this.compressed() };
      case ET.MVAR:
        return { kind: "mvar", index: this.compressed() };
      case ET.SZARRAY:
        return { kind: "szarray", elem: this.type(depth + 1) };
      case ET.ARRAY: {
        const elem = this.type(depth + 1);
        const rank = this.compressed();
        // The runtime allows 32 dimensions; a huge rank is damage (and would make formatting loop).
        if (rank > MAX_ARRAY_RANK) throw new CorruptDataError(`${this.what}: array rank ${rank}`);
        const sizes: number[] = [];
        const lowerBounds: number[] = [];
        const ns = this.count("array size");
        for (let i = 0; i < ns; i++) sizes.push(this.compressed());
        const nb = this.count("array lower bound");
        for (let i = 0; i < nb; i++) lowerBounds.push(this.compressedSigned());
        return { kind: "array", elem, rank, sizes, lowerBounds };
      }
      case ET.PTR:
        return { kind: "ptr", elem: this.type(depth + 1) };
      case ET.BYREF:
        return { kind: "byref", elem: this.type(depth + 1) };
      case ET.PINNED:
        return { kind: "pinned", elem: this.type(depth + 1) };
      case ET.CMOD_REQD:
      case ET.CMOD_OPT: {
        const modifier = this.typeToken();
        return { kind: "modified", required: et === ET.CMOD_REQD, modifier, elem: this.type(depth + 1) };
      }
      case ET.FNPTR:
        return { kind: "fnptr", sig: this.methodSig(depth + 1) };
      case ET.INTERNAL:
        return { kind: "internal", typeHandle: this.pointer() };
      default:
        throw new CorruptDataError(`${this.what}: unexpected element type 0x${et.toString(16)} at byte ${this.pos - 1}`);
    }
  }

  methodSig(depth = 0): MethodSig {
    const header = this.byte();
    const callingConvention = header & 0x0f;
    if (callingConvention > SigKind.vararg && callingConvention !== SigKind.unmanaged) {
      throw new CorruptDataError(`${this.what}: calling convention 0x${header.toString(16)} is not a method signature`);
    }
    return this.methodSigBody(header, depth);
  }

  /** The rest of a method (or property) signature after its header byte. */
  methodSigBody(header: number, depth: number): MethodSig {
    const genericParamCount = header & SIG_GENERIC ? this.compressed() : 0;
    const n = this.count("parameter");
    const returnType = this.type(depth + 1);
    const params: SigType[] = [];
    let sentinel: number | undefined;
    for (let i = 0; i < n; i++) {
      if (this.peek() === ET.SENTINEL) {
        if (sentinel !== undefined) throw new CorruptDataError(`${this.what}: two vararg sentinels`);
        this.pos++;
        sentinel = i;
      }
      params.push(this.type(depth + 1));
    }
    const sig: MethodSig = {
      header,
      hasThis: (header & SIG_HASTHIS) !== 0,
      explicitThis: (header & SIG_EXPLICITTHIS) !== 0,
      callingConvention: header & 0x0f,
      genericParamCount,
      returnType,
      params,
    };
    if (sentinel !== undefined) sig.sentinel = sentinel;
    return sig;
  }
}

export function decodeMethodSig(blob: Uint8Array, what = "method signature"): MethodSig {
  return new SigReader(blob, what).methodSig();
}

export function decodeFieldSig(blob: Uint8Array, what = "field signature"): SigType {
  const r = new SigReader(blob, what);
  const header = r.byte();
  if ((header & 0x0f) !== SigKind.field) throw new CorruptDataError(`${what}: header 0x${header.toString(16)} is not FIELD`);
  return r.type();
}

export function decodePropertySig(blob: Uint8Array, what = "property signature"): MethodSig {
  const r = new SigReader(blob, what);
  const header = r.byte();
  if ((header & 0x0f) !== SigKind.property) throw new CorruptDataError(`${what}: header 0x${header.toString(16)} is not PROPERTY`);
  return r.methodSigBody(header, 0);
}

export function decodeLocalSig(blob: Uint8Array, what = "local signature"): SigType[] {
  const r = new SigReader(blob, what);
  const header = r.byte();
  if (header !== SigKind.localSig) throw new CorruptDataError(`${what}: header 0x${header.toString(16)} is not LOCAL_SIG`);
  const n = r.count("local");
  const out: SigType[] = [];
  for (let i = 0; i < n; i++) out.push(r.type());
  return out;
}

export function decodeTypeSpec(blob: Uint8Array, what = "type spec"): SigType {
  return new SigReader(blob, what).type();
}

export function decodeMethodSpec(blob: Uint8Array, what = "method spec"): SigType[] {
  const r = new SigReader(blob, what);
  const header = r.byte();
  if (header !== SigKind.genericInst) throw new CorruptDataError(`${what}: header 0x${header.toString(16)} is not GENERICINST`);
  const n = r.count("generic argument");
  const out: SigType[] = [];
  for (let i = 0; i < n; i++) out.push(r.type());
  return out;
}

/** A StandAloneSig: local variables, or a method signature (calli). */
export function decodeStandAloneSig(blob: Uint8Array, what = "standalone signature"): { locals: SigType[] } | { method: MethodSig } {
  if (blob.length > 0 && blob[0] === SigKind.localSig) return { locals: decodeLocalSig(blob, what) };
  return { method: decodeMethodSig(blob, what) };
}

// ---- canonical text ------------------------------------------------------------------------------

/** ILDasm's names of the primitive element types (shared with dumpil). */
export const PRIMITIVE_NAMES: Record<number, string> = {
  [ET.VOID]: "void",
  [ET.BOOLEAN]: "bool",
  [ET.CHAR]: "char",
  [ET.I1]: "int8",
  [ET.U1]: "uint8",
  [ET.I2]: "int16",
  [ET.U2]: "uint16",
  [ET.I4]: "int32",
  [ET.U4]: "uint32",
  [ET.I8]: "int64",
  [ET.U8]: "uint64",
  [ET.R4]: "float32",
  [ET.R8]: "float64",
  [ET.I]: "native int",
  [ET.U]: "native uint",
  [ET.OBJECT]: "object",
  [ET.STRING]: "string",
  [ET.TYPEDBYREF]: "typedref",
};

const CALLING_CONVENTION_TEXT: Record<number, string> = {
  [SigKind.c]: "unmanaged cdecl ",
  [SigKind.stdcall]: "unmanaged stdcall ",
  [SigKind.thiscall]: "unmanaged thiscall ",
  [SigKind.fastcall]: "unmanaged fastcall ",
  [SigKind.vararg]: "vararg ",
  [SigKind.unmanaged]: "unmanaged ",
};

/**
 * Canonical text of a type: `class NS.Outer/Inner`, `valuetype [Asm]NS.S`, `class X`1<int32,!0>`,
 * `int32[]`, `int32[0:,0:]` (lower bound ':' size per dimension), `T*`, `T&`, `T pinned`,
 * `T modreq(M)`, `method <signature>`. TypeSpec tokens (as modifiers) are expanded.
 */
export function formatSignature(md: MetadataReader, t: SigType, st: FormatState = freshState()): string {
  const f = (x: SigType): string => formatSignature(md, x, st);
  switch (t.kind) {
    case "prim":
      return PRIMITIVE_NAMES[t.et] ?? `?${t.et}`;
    case "named":
      return (t.valueType ? "valuetype " : "class ") + canonicalTypeName(md, t.token, st);
    case "generic":
      return `${f(t.type)}<${t.args.map(f).join(",")}>`;
    case "var":
      return `!${t.index}`;
    case "mvar":
      return `!!${t.index}`;
    case "szarray":
      return `${f(t.elem)}[]`;
    case "array": {
      const dims: string[] = [];
      for (let i = 0; i < t.rank; i++) dims.push(`${t.lowerBounds[i] ?? ""}:${t.sizes[i] ?? ""}`);
      return `${f(t.elem)}[${dims.join(",")}]`;
    }
    case "ptr":
      return `${f(t.elem)}*`;
    case "byref":
      return `${f(t.elem)}&`;
    case "pinned":
      return `${f(t.elem)} pinned`;
    case "modified":
      return `${f(t.elem)} ${t.required ? "modreq" : "modopt"}(${canonicalTypeName(md, t.modifier, st)})`;
    case "fnptr":
      return `method ${formatMethodSignature(md, t.sig, st)}`;
    case "internal":
      return `internal(0x${t.typeHandle.toString(16)})`;
  }
}

/** Canonical text of a method signature: `[instance ][explicit ][conv ][generic(N) ]RET(P1,P2,...,P3)`. */
export function formatMethodSignature(md: MetadataReader, s: MethodSig, st: FormatState = freshState()): string {
  let out = "";
  if (s.hasThis) out += "instance ";
  if (s.explicitThis) out += "explicit ";
  out += CALLING_CONVENTION_TEXT[s.callingConvention] ?? "";
  if (s.header & SIG_GENERIC) out += `generic(${s.genericParamCount}) `;
  const params = s.params.map((p) => formatSignature(md, p, st));
  if (s.sentinel !== undefined) params.splice(s.sentinel, 0, "...");
  return `${out}${formatSignature(md, s.returnType, st)}(${params.join(",")})`;
}

/**
 * ILDasm-style name of a TypeDef/TypeRef/TypeSpec token without the class/valuetype keyword:
 * `NS.Outer/Inner`, `[Assembly]NS.Name`, `[.module M]NS.Name`, `[*]NS.Name` (nil scope).
 */
export function canonicalTypeName(md: MetadataReader, tok: number, st: FormatState = freshState()): string {
  if (--st.budget < 0 || st.depth > MAX_SIGNATURE_DEPTH) throw new CorruptDataError(`${md.name}: type names refer to each other too much (cycle or blow-up)`);
  st.depth++;
  try {
    return typeNameOf(md, tok, st);
  } finally {
    st.depth--;
  }
}

function typeNameOf(md: MetadataReader, tok: number, st: FormatState): string {
  const rid = tokenRid(tok);
  switch (tokenTable(tok)) {
    case T.TypeDef: {
      const name = dotted(md.typeDefNamespace(rid), md.typeDefName(rid));
      const outer = md.enclosingType(rid);
      return outer ? `${canonicalTypeName(md, token(T.TypeDef, outer), st)}/${name}` : name;
    }
    case T.TypeRef: {
      const name = dotted(md.typeRefNamespace(rid), md.typeRefName(rid));
      const scope = md.typeRefScope(rid);
      if (scope === 0) return `[*]${name}`;
      switch (tokenTable(scope)) {
        case T.TypeRef:
          return `${canonicalTypeName(md, scope, st)}/${name}`;
        case T.AssemblyRef:
          return `[${md.assemblyRefName(tokenRid(scope))}]${name}`;
        case T.ModuleRef:
          return `[.module ${md.moduleRefName(tokenRid(scope))}]${name}`;
        default:
          return name;
      }
    }
    case T.TypeSpec:
      return formatSignature(md, decodeTypeSpec(md.typeSpecSignature(rid), `${md.name} TypeSpec 0x${tok.toString(16)}`), st);
    default:
      throw new CorruptDataError(`${md.name}: token 0x${tok.toString(16)} is not a type`);
  }
}

function dotted(ns: string, name: string): string {
  return ns.length === 0 ? name : `${ns}.${name}`;
}
