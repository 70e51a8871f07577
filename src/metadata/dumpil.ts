// The text of SOS `dumpil`: `IL_0000: ldarg.0 ` lines with `.try`/`.catch`/`.finally` blocks,
// written from SOS's sildasm.cpp behaviour (DecodeIL, DisplayILOperation, DisassembleToken,
// PrettyPrintType with the ILDasm format flags) so that the output matches what people see in
// dotnet-dump and lldb. That includes SOS's quirks, reproduced in `exact` mode (the default):
//   - every line has a space after the opcode name, even without an operand;
//   - ldc.i4.s and short branch operands are read as unsigned bytes (ldc.i4.s -1 prints 255,
//     br.s backwards prints a target 256 too far); ldc.i8 prints its low 32 bits under
//     the sign of the whole value;
//   - type, field and method names are cut to the 48/49 characters of SOS's name buffers;
//   - a field MemberRef's type is read from the wrong place (SOS treats the field's element type
//     byte as a parameter count and pretty-prints the bytes after it, even past the blob);
//   - filter and fault handlers are both shown as `.catch`; filter blocks are not marked;
//   - TypeSpec, MethodSpec and StandAloneSig tokens print `<unknown token type 1b000000>`;
//   - ldstr shows at most 79 characters (+ "..."), "STRING <token>" past 80, non-ASCII as '.';
//   - a body whose EH sections end past its first 1,024 bytes shows no .try blocks (GetILSize
//     sizes the body from a 1,024-byte read, so the clauses beyond it are never read).
// With `exact: false` the same layout is printed with correct values and full names.
import { CorruptDataError } from "../errors.js";
import { decodeInstruction, hex4, type MethodBody } from "./il.js";
import type { MetadataReader } from "./metadata.js";
import { ET, PRIMITIVE_NAMES, SigReader } from "./signatures.js";
import { T, COL, TOKEN_USER_STRING, token, tokenRid, tokenTable } from "./tables.js";
import { MAX_IL_PRETTY_DEPTH } from "../limits.js";

/** The bytes SOS's GetILSize reads to size a method body (sildasm.cpp). */
const SOS_IL_HEADER_READ = 1024;

export interface DumpIlOptions {
  /** Reproduce SOS's output byte for byte, quirks included (default true). */
  exact?: boolean;
}

/** The lines SOS prints for a method body (without its "ilAddr = ..." header). */
export function dumpIl(md: MetadataReader | undefined, body: MethodBody, options: DumpIlOptions = {}): string[] {
  const exact = options.exact ?? true;
  const out: string[] = [];
  const clauses = !exact ? body.clauses : body.totalSize > SOS_IL_HEADER_READ ? [] : body.clauses.slice(0, body.firstSectionClauseCount);
  let indent = 0;
  const pad = (): string => " ".repeat(indent);
  for (let pos = 0; pos < body.code.length; ) {
    for (const c of clauses) {
      if (c.tryOffset === pos) {
        out.push(`${pad()}.try`, `${pad()}{`);
        indent += 2;
      } else if (c.tryOffset + c.tryLength === pos) {
        indent = Math.max(0, indent - 2);
        out.push(`${pad()}} // end .try`);
      }
      const keyword = exact ? (c.flags === 2 ? "finally" : "catch") : c.kind === "filter" ? "catch" : c.kind ?? "catch";
      if (!exact && c.kind === "filter" && c.filterOffset === pos) {
        out.push(`${pad()}.filter`, `${pad()}{`);
        indent += 2;
      }
      if (c.handlerOffset === pos) {
        if (!exact && c.kind === "filter") {
          indent = Math.max(0, indent - 2);
          out.push(`${pad()}} // end .filter`);
        }
        out.push(`${pad()}.${keyword}`, `${pad()}{`);
        indent += 2;
      } else if (c.handlerOffset + c.handlerLength === pos) {
        indent = Math.max(0, indent - 2);
        out.push(`${pad()}} // end .${keyword}`);
      }
    }
    const ins = decodeInstruction(body.code, pos);
    const next = pos + ins.size;
    const tokenText = (tok: number): string => (md ? ilTokenText(md, tok, exact) : `TOKEN ${tok.toString(16)}`);
    out.push(`${pad()}IL_${hex4(pos)}: ${ins.opcode.name} ${operandDisplay(tokenText, ins.opcode.operand, body.code, pos + ins.opcode.size, next, exact)}`);
    pos = next;
  }
  return out;
}

/**
 * The lines SOS prints for a DynamicMethod's IL (DecodeDynamicIL): no header, no exception blocks,
 * tokens as `tokenText` shows them (they index the method's own token table, not metadata).
 */
export function dumpDynamicIl(code: Uint8Array, tokenText: (token: number) => string): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < code.length; ) {
    const ins = decodeInstruction(code, pos);
    const next = pos + ins.size;
    out.push(`IL_${hex4(pos)}: ${ins.opcode.name} ${operandDisplay(tokenText, ins.opcode.operand, code, pos + ins.opcode.size, next, true)}`);
    pos = next;
  }
  return out;
}

function operandDisplay(tokenText: (token: number) => string, kind: string, code: Uint8Array, at: number, next: number, exact: boolean): string {
  const v = new DataView(code.buffer, code.byteOffset, code.byteLength);
  switch (kind) {
    case "InlineNone":
      return "";
    case "ShortInlineVar":
      return `VAR OR ARG ${v.getUint8(at)}`;
    case "InlineVar":
      return `VAR OR ARG ${v.getUint16(at, true)}`;
    case "InlineI":
      return String(v.getInt32(at, true));
    case "InlineR":
      return formatFixed(v.getFloat64(at, true));
    case "ShortInlineR":
      return formatFixed(v.getFloat32(at, true));
    case "InlineI8":
      // SOS's printf("%ld") on Linux keeps the low 32 bits and the sign of the whole value (found by
      // the SOS oracle: 0x123456789AB prints 1164413355, -123456789012 prints -3197704724).
      if (!exact) return String(v.getBigInt64(at, true));
      return String(BigInt.asIntN(64, ((v.getInt32(at + 4, true) < 0 ? 0xffffffffn : 0n) << 32n) | BigInt(v.getUint32(at, true))));
    case "ShortInlineI":
      return String(exact ? v.getUint8(at) : v.getInt8(at));
    case "InlineBrTarget":
      return `IL_${hex4((v.getInt32(at, true) + next) >>> 0)}`;
    case "ShortInlineBrTarget":
      return `IL_${hex4(exact ? v.getUint8(at) + next : v.getInt8(at) + next)}`;
    case "InlineSwitch": {
      const n = v.getUint32(at, true);
      const targets: string[] = [];
      for (let i = 0; i < n; i++) targets.push(`IL_${hex4((v.getInt32(at + 4 + 4 * i, true) + next) >>> 0)}`);
      return `(${targets.join(", ")})`;
    }
    default: {
      return tokenText(v.getUint32(at, true));
    }
  }
}

/** C's printf("%f"): fixed, 6 decimals, exact for every double; inf/nan as glibc prints them. */
export function formatFixed(x: number): string {
  if (Number.isNaN(x)) return signBit(x) ? "-nan" : "nan";
  if (!Number.isFinite(x)) return x < 0 ? "-inf" : "inf";
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  // toFixed is exact below 1e21; above, every double is an integer and BigInt prints it exactly.
  const body = a < 1e21 ? a.toFixed(6) : `${BigInt(a)}.000000`;
  return neg ? `-${body}` : body;
}

function signBit(x: number): boolean {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x);
  return (b.getUint8(0) & 0x80) !== 0;
}

// ---- tokens (DisassembleToken) -------------------------------------------------------------------

/** SOS name buffers: 50 WCHARs, of which the metadata API fills 48 or 49 characters plus NUL. */
const NAME_49 = 48;
const NAME_50 = 49;
/** A TypeSpec parent's pretty-printed name: SOS keeps 50 characters of it (found by the SOS oracle). */
const TYPESPEC_NAME = 50;

/** The operand text SOS prints for a metadata token in IL. */
export function ilTokenText(md: MetadataReader, tok: number, exact = true): string {
  const cut = (s: string, n: number): string => (exact && s.length > n ? s.slice(0, n) : s);
  const rid = tokenRid(tok);
  const valid = md.isValidToken(tok);
  switch (tokenTable(tok)) {
    case T.TypeDef:
      return valid ? cut(typeDefName(md, rid), NAME_49) : "<unknown type def>";
    case T.TypeRef:
      return valid ? cut(typeRefName(md, rid), NAME_49) : "<unknown type ref>";
    case T.Field: {
      if (!valid) return "<unknown type def>::<unknown field def>";
      const owner = md.typeOfField(rid);
      const cls = owner ? cut(typeDefName(md, owner), NAME_49) : "<unknown type def>";
      return `${cls}::${cut(md.fieldName(rid), NAME_49)}`;
    }
    case T.MethodDef: {
      if (!valid) return "<unknown type def>::<unknown method def>";
      const owner = md.typeOfMethod(rid);
      const cls = owner ? cut(typeDefName(md, owner), NAME_49) : "<unknown type def>";
      const sig = blobRange(md, md.cell(T.MethodDef, rid, COL.MethodDef.Signature));
      const { ret, args } = methodSigText(md, sig, exact);
      return `${ret}${cls}::${cut(md.methodName(rid), NAME_49)}${args}`;
    }
    case T.MemberRef: {
      if (!valid) return "<unknown type ref>::<unknown member ref>";
      const sig = blobRange(md, md.memberRefSignatureOffset(rid));
      const { ret, args } = methodSigText(md, sig, exact);
      return `${ret}${memberRefParentText(md, md.memberRefParent(rid), exact)}::${cut(md.memberRefName(rid), NAME_49)}${args}`;
    }
    case TOKEN_USER_STRING:
      return userStringText(md, tok, exact);
    case T.TypeSpec:
      if (!exact && valid) return prettyPrintType(md, blobRange(md, md.cell(T.TypeSpec, rid, COL.TypeSpec.Signature))).text;
      break;
    case T.MethodSpec:
      if (!exact && valid) {
        const inst = blobRange(md, md.cell(T.MethodSpec, rid, COL.MethodSpec.Instantiation));
        const args = typeList(md, { ...inst, pos: inst.pos + 1 });
        const method = ilTokenText(md, md.methodSpecMethod(rid), false);
        const paren = method.indexOf("(", method.lastIndexOf("::"));
        return paren < 0 ? `${method}<${args}>` : `${method.slice(0, paren)}<${args}>${method.slice(paren)}`;
      }
      break;
  }
  return `<unknown token type ${((tok & 0xff000000) >>> 0).toString(16).padStart(8, "0")}>`;
}

function memberRefParentText(md: MetadataReader, parent: number, exact: boolean): string {
  const rid = tokenRid(parent);
  switch (tokenTable(parent)) {
    case T.TypeRef:
      if (!md.isValidToken(parent)) return "<unknown type ref>";
      return exact ? typeRefName(md, rid).slice(0, NAME_50) : typeRefName(md, rid);
    case T.TypeDef:
      if (!md.isValidToken(parent)) return "<unknown type def>";
      return exact ? typeDefName(md, rid).slice(0, NAME_49) : typeDefName(md, rid);
    case T.TypeSpec: {
      if (!md.isValidToken(parent)) return "<Invalid record>";
      const text = prettyPrintType(md, blobRange(md, md.cell(T.TypeSpec, rid, COL.TypeSpec.Signature))).text;
      return exact ? text.slice(0, TYPESPEC_NAME) : text;
    }
    default:
      return "<unknown type token>";
  }
}

/** GetTypeDefProps' name: namespace.name (nested types have no namespace, so just their name). */
function typeDefName(md: MetadataReader, rid: number): string {
  const ns = md.typeDefNamespace(rid);
  const name = md.typeDefName(rid);
  return ns ? `${ns}.${name}` : name;
}

function typeRefName(md: MetadataReader, rid: number): string {
  const ns = md.typeRefNamespace(rid);
  const name = md.typeRefName(rid);
  return ns ? `${ns}.${name}` : name;
}

function userStringText(md: MetadataReader, tok: number, exact: boolean): string {
  const offset = tokenRid(tok);
  let s: string;
  try {
    if (offset === 0) throw new CorruptDataError("empty");
    s = md.userStrings.get(offset);
  } catch (e) {
    if (e instanceof CorruptDataError) return `STRING ${tok.toString(16)}`;
    throw e;
  }
  if (exact) {
    if (s.length > 80) return `STRING ${tok.toString(16)}`;
    if (s.length >= 79) s = `${s.slice(0, 79)}...`;
  }
  return `"${s.replace(/[^\x20-\x7f]/g, ".")}"`;
}

// ---- signatures (MethodSigArgPrettyPrinter) --------------------------------------------------------

/** A signature's bytes inside the metadata: read from `pos`; `limit` is the end of the #Blob heap. */
export interface RawSig {
  bytes: Uint8Array;
  pos: number;
  /** End of this blob. */
  end: number;
  /** End of the heap: SOS's pretty printer does not stop at the end of a blob. */
  limit: number;
}

function blobRange(md: MetadataReader, offset: number): RawSig {
  const { at, length } = md.blobs.locate(offset);
  return { bytes: md.bytes, pos: at, end: at + length, limit: md.blobs.start + md.blobs.size };
}

/** "ret " and "(a,b)" of a method or field signature, as HandleReturnType/HandleArguments print them. */
function methodSigText(md: MetadataReader, sig: RawSig, exact: boolean): { ret: string; args: string } {
  if (sig.pos >= sig.end) return { ret: "", args: "" };
  const callConv = sig.bytes[sig.pos]!;
  const isField = (callConv & 0x6) === 0x6;
  let p = sig.pos + 1;
  if (isField && !exact) {
    // What SOS means to print: the field's type.
    const t = prettyPrintType(md, { ...sig, pos: p });
    return { ret: `${t.text} `, args: "" };
  }
  if (!isField && callConv & 0x10) p = readData(sig, p).next;
  const count = readData(sig, p);
  if (count.failed) return { ret: "", args: isField ? "" : "()" };
  p = count.next;
  const ret = prettyPrintType(md, { ...sig, pos: p });
  p = skipExactlyOne(sig, p);
  if (isField) return { ret: `${ret.text} `, args: "" };
  const args: string[] = [];
  // At most one parameter per remaining byte: a damaged count cannot make this loop long.
  const n = Math.min(count.value, sig.limit - p + 1);
  for (let i = 0; i < n; i++) {
    if (!exact && p < sig.end && sig.bytes[p] === ET.SENTINEL) {
      // What SOS means to print: the optional arguments of a vararg call after "...".
      args.push("...");
      p++;
    }
    args.push(prettyPrintType(md, { ...sig, pos: p }).text);
    p = skipExactlyOne(sig, p);
  }
  return { ret: `${ret.text} `, args: `(${args.join(",")})` };
}

/** SigParser::GetData: a compressed integer, bounded by the blob. */
function readData(sig: RawSig, p: number): { value: number; next: number; failed: boolean } {
  try {
    const r = new SigReader(sig.bytes.subarray(p, sig.end));
    const value = r.compressed();
    return { value, next: p + r.pos, failed: false };
  } catch {
    return { value: 0, next: p, failed: true };
  }
}

/** SigParser::SkipExactlyOne: past one type; on a malformed one, past its first byte only. */
function skipExactlyOne(sig: RawSig, p: number): number {
  if (p >= sig.end) return p;
  try {
    const r = new SigReader(sig.bytes.subarray(p, sig.end));
    r.type();
    return p + r.pos;
  } catch {
    return p + 1;
  }
}

function typeList(md: MetadataReader, sig: RawSig): string {
  const count = readData(sig, sig.pos);
  let p = count.next;
  const out: string[] = [];
  for (let i = 0; i < Math.min(count.value, sig.limit - p + 1); i++) {
    out.push(prettyPrintType(md, { ...sig, pos: p }).text);
    p = skipExactlyOne(sig, p);
  }
  return out.join(",");
}


/** Recursion depth and a budget of expansions: TypeSpecs may refer to TypeSpecs (even in cycles). */
export interface PrettyState {
  depth: number;
  budget: number;
}
const freshPrettyState = (): PrettyState => ({ depth: 0, budget: 10_000 });

/**
 * SOS's PrettyPrintType with the ILDasm flags: `class [System.Runtime]System.String`,
 * `valuetype [*]NS.S`, `class [*]NS.List`1<int32>`, `!0`, `!!0`, `int32[]`, `int32[0...,0...]`,
 * `int32&`, `int32 pinned`, modifiers as " mod req <class>" before the type, and
 * `/* UNKNOWN TYPE (0x41)*\/` for bytes that are no type. Reads past the end of the heap as END.
 */
export function prettyPrintType(md: MetadataReader, sig: RawSig, st: PrettyState = freshPrettyState()): { text: string; pos: number } {
  if (--st.budget < 0 || st.depth > MAX_IL_PRETTY_DEPTH) throw new CorruptDataError(`${md.name}: type signatures refer to each other too much (cycle or blow-up)`);
  st.depth++;
  try {
    return prettyType(md, sig, st);
  } finally {
    st.depth--;
  }
}

function prettyType(md: MetadataReader, sig: RawSig, st: PrettyState): { text: string; pos: number } {
  let p = sig.pos;
  const byte = (): number => (p < sig.limit ? sig.bytes[p++]! : (p++, 0));
  const data = (): number => {
    const r = readData({ ...sig, end: sig.limit }, p);
    p = r.failed ? p + 1 : r.next;
    return r.value;
  };
  const signedData = (): number => {
    try {
      const r = new SigReader(sig.bytes.subarray(p, sig.limit));
      const v = r.compressedSigned();
      p += r.pos;
      return v;
    } catch {
      p++;
      return 0;
    }
  };
  const typeToken = (): number => {
    // Tag 3 decodes to mdtBaseType (0x72) in CorSigUncompressToken: an invalid token downstream.
    const v = data();
    return ((([T.TypeDef, T.TypeRef, T.TypeSpec, 0x72][v & 3]! << 24) | (v >>> 2)) >>> 0);
  };
  let out = "";
  let appendix = "";
  for (let guard = 0; guard < sig.limit - sig.pos + 1; guard++) {
    const typ = byte();
    const prim = PRIMITIVE_NAMES[typ];
    if (prim !== undefined) {
      out += prim;
      break;
    }
    if (typ === ET.VALUETYPE || typ === ET.CLASS) {
      out += typ === ET.VALUETYPE ? "valuetype " : "class ";
      const tk = typeToken();
      out += tokenRid(tk) === 0 ? "[ERROR! NIL TOKEN]" : prettyPrintClass(md, tk, st);
      break;
    }
    if (typ === ET.SZARRAY || typ === ET.PTR || typ === ET.BYREF || typ === ET.PINNED) {
      appendix = (typ === ET.SZARRAY ? "[]" : typ === ET.PTR ? "*" : typ === ET.BYREF ? "&" : " pinned") + appendix;
      continue;
    }
    if (typ === ET.CMOD_REQD || typ === ET.CMOD_OPT) {
      out += typ === ET.CMOD_REQD ? " mod req " : " mod opt ";
      const tk = typeToken();
      out += tokenRid(tk) === 0 ? "[ERROR! NIL TOKEN]" : prettyPrintClass(md, tk, st);
      continue;
    }
    if (typ === ET.ARRAY) {
      const elem = prettyPrintType(md, { ...sig, pos: p }, st);
      out += elem.text;
      p = elem.pos;
      const rank = data();
      if (rank === 0) {
        out += "[BAD: RANK == 0!]";
        break;
      }
      if (rank > 1024) throw new CorruptDataError(`${md.name}: array rank ${rank} in a signature`);
      const numSizes = Math.min(data(), rank);
      const sizes: number[] = [];
      for (let i = 0; i < numSizes; i++) sizes.push(data());
      const numLow = Math.min(data(), rank);
      const lows: number[] = new Array(rank).fill(0);
      for (let i = 0; i < numLow; i++) lows[i] = signedData();
      let dims: string;
      if (rank === 1 && numSizes === 0 && numLow === 0) dims = "...";
      else {
        const d: string[] = [];
        for (let i = 0; i < rank; i++) {
          if (i < numSizes && lows[i] === 0) d.push(String(sizes[i]));
          else if (i < numLow) d.push(`${lows[i]}...${i < numSizes ? lows[i]! + sizes[i]! - 1 : ""}`);
          else d.push("");
        }
        dims = d.join(",");
      }
      out += `[${dims}]`;
      break;
    }
    if (typ === ET.VAR || typ === ET.MVAR) {
      out += `${typ === ET.MVAR ? "!!" : "!"}${data()}`;
      break;
    }
    if (typ === ET.FNPTR) {
      out += "method METHOD"; // SOS does not format (or skip) function pointer signatures
      break;
    }
    if (typ === ET.GENERICINST) {
      const g = prettyPrintType(md, { ...sig, pos: p }, st);
      out += g.text;
      p = g.pos;
      const n = data();
      const args: string[] = [];
      for (let i = 0; i < n && p < sig.limit; i++) {
        const a = prettyPrintType(md, { ...sig, pos: p }, st);
        args.push(a.text);
        p = a.pos;
      }
      out += `<${args.join(",")}>`;
      break;
    }
    if (typ !== 0) out += `/* UNKNOWN TYPE (0x${typ.toString(16).toUpperCase()})*/`;
    break;
  }
  return { text: out + appendix, pos: p };
}

/** Prefixes of made-up names for nameless rows (szStdNamePrefix), by table. */
const NAME_PREFIX: Record<number, string> = { [T.TypeRef]: "TR", [T.TypeDef]: "TD" };

/** SOS's PrettyPrintClass with the ILDasm flags: scope in brackets, nesting with '/'. */
export function prettyPrintClass(md: MetadataReader, tk: number, st: PrettyState = freshPrettyState()): string {
  if (tk === 0) return "[*]";
  if (!md.isValidToken(tk)) return ` [ERROR: INVALID TOKEN 0x${hex8(tk)}] `;
  if (--st.budget < 0 || st.depth > MAX_IL_PRETTY_DEPTH) throw new CorruptDataError(`${md.name}: type names refer to each other too much (cycle or blow-up)`);
  st.depth++;
  try {
    return prettyClass(md, tk, st);
  } finally {
    st.depth--;
  }
}

function prettyClass(md: MetadataReader, tk: number, st: PrettyState): string {
  const rid = tokenRid(tk);
  switch (tokenTable(tk)) {
    case T.TypeRef:
    case T.TypeDef: {
      let name: string;
      let encloser = 0;
      if (tokenTable(tk) === T.TypeRef) {
        name = typeRefName(md, rid);
        encloser = md.codedCell(T.TypeRef, rid, COL.TypeRef.ResolutionScope);
      } else {
        name = typeDefName(md, rid);
        const visibility = md.typeDefFlags(rid) & 0x7;
        if (visibility >= 2) {
          const outer = md.enclosingType(rid);
          encloser = token(T.TypeDef, outer);
        }
      }
      if (!name) name = `$${NAME_PREFIX[tokenTable(tk)]}$${rid.toString(16).toUpperCase()}`;
      let prefix = "";
      if (encloser === 0 || tokenRid(encloser) !== 0) {
        const et = tokenTable(encloser);
        if (encloser !== 0 && (et === T.TypeRef || et === T.TypeDef)) prefix = `${prettyPrintClass(md, encloser, st)}/`;
        else prefix = prettyPrintClass(md, encloser, st);
      }
      return prefix + name;
    }
    case T.AssemblyRef:
      return `[${md.assemblyRefName(rid)}]`;
    case T.Assembly:
      return `[${md.assemblyName()}]`;
    case T.ModuleRef:
      return `[.module ${md.moduleRefName(rid)}]`;
    case T.TypeSpec:
      return prettyPrintType(md, blobRange(md, md.cell(T.TypeSpec, rid, COL.TypeSpec.Signature)), st).text;
    case T.Module:
      return "";
    default:
      return ` [ERROR: INVALID TOKEN TYPE 0x${hex8(tk)}] `;
  }
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, "0");
}
