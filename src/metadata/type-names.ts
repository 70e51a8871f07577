// Type and method names the way SOS prints them. Three display forms exist, from three sources:
//
// 1. The DAC form (runtime TypeString, FormatNamespace|FormatFullInst; DAC GetMethodTableName):
//    dumpmt/dumpobj "Name:", dumpheap -type matching in native SOS, exception types, and the type
//    part of method names. Nested types joined with '+', generic type definitions with their arity
//    only (`System.Collections.Generic.List`1`), instantiations with each argument in brackets with
//    its assembly's simple name:
//    `System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],[System.Int32, System.Private.CoreLib]]`.
//    Generic variables print bare (`[T,[System.String, System.Private.CoreLib]]`); arrays
//    `System.Int32[]`, `System.Int32[,]`, `System.Int32[*]` (rank-1 non-SZ), `*`, `&`.
// 2. The DAC method form (GetMethodDescName: TypeString + SigFormat), used by clrstack, pstacks,
//    ip2md, dumpmd: `<DAC type>.<name>[<DAC method instantiation>](<SigFormat parameters>)` where
//    SigFormat names primitives short (`Int32`, `Boolean`, `Void`), classes as namespace.name
//    without enclosing types or assemblies (`System.String`, `System.TimeSpan`), generic
//    instantiations with angle brackets and ',' (`System.Collections.Generic.List`1<Int32>`),
//    byrefs as ` ByRef`, and separates parameters with ", ": `System.Threading.Thread.Sleep(Int32)`.
// 3. The ClrMD form (DacNameParser over the DAC form): managed commands that show ClrType.Name —
//    dumpheap -stat "Class Name" in dotnet-dump — print C#-like names without assemblies:
//    `System.Collections.Generic.Dictionary<System.String, System.Int32>`, args distributed over
//    nested generic types (`Outer<A>+Inner<B>`), open generics as `List<T1>`.
// 4. The pstacks form (dotnet-dump's ParallelStacks over ClrMD): `<ClrMD type>.<method>(<short
//    parameters>)`, each parameter type without namespace or generic arity (`String[]`,
//    `Span<Byte>`, `Int32 ByRef`); IL stubs and DynamicMethods on the type `(dynamicClass)`.
// (dumpil has a fifth, ILDasm-derived form: see dumpil.ts.)
import { CorruptDataError } from "../errors.js";
import type { MetadataReader } from "./metadata.js";
import { decodeMethodSig, ET, type MethodSig, type SigType } from "./signatures.js";
import { T, token, tokenRid, tokenTable } from "./tables.js";
import { MAX_TYPE_NAME_NESTING } from "../limits.js";

/** A type as the runtime knows it (a TypeHandle), with what is needed to name it. */
export type RuntimeType =
  /** A type defined (TypeDef token) or referenced (TypeRef token) in `md`. */
  | {
      kind: "named";
      md: MetadataReader;
      token: number;
      /** Simple name of the assembly that defines it (default: from the metadata). */
      assembly?: string;
      /** The instantiation; absent or empty for non-generic types and generic type definitions. */
      args?: RuntimeType[];
      /** CorElementType for primitives, string and object (System.Int32 -> ET.I4): SigFormat names them short. */
      elementType?: number;
    }
  /** A primitive, string, object or typedref named by its element type (System.Private.CoreLib). */
  | { kind: "prim"; et: number }
  | { kind: "szarray" | "ptr" | "byref"; elem: RuntimeType }
  | { kind: "array"; elem: RuntimeType; rank: number }
  | { kind: "var" | "mvar"; index: number; name: string; assembly?: string }
  | { kind: "fnptr" };

/** The simple name of the core library, where primitives live. */
export const CORE_LIBRARY = "System.Private.CoreLib";

/** Namespace and name of each primitive element type in the core library. */
const PRIMITIVE_TYPES: Record<number, string> = {
  [ET.VOID]: "System.Void",
  [ET.BOOLEAN]: "System.Boolean",
  [ET.CHAR]: "System.Char",
  [ET.I1]: "System.SByte",
  [ET.U1]: "System.Byte",
  [ET.I2]: "System.Int16",
  [ET.U2]: "System.UInt16",
  [ET.I4]: "System.Int32",
  [ET.U4]: "System.UInt32",
  [ET.I8]: "System.Int64",
  [ET.U8]: "System.UInt64",
  [ET.R4]: "System.Single",
  [ET.R8]: "System.Double",
  [ET.I]: "System.IntPtr",
  [ET.U]: "System.UIntPtr",
  [ET.OBJECT]: "System.Object",
  [ET.STRING]: "System.String",
  [ET.TYPEDBYREF]: "System.TypedReference",
};

/** "System.Int32" for a primitive (or object/string) element type; undefined for others. */
export function primitiveTypeName(et: number): string | undefined {
  return PRIMITIVE_TYPES[et];
}

/** SigFormat's names (runtime sigformat.cpp): primitives without namespace, object/string with. */
const SIGFORMAT_PRIMITIVES: Record<number, string> = {
  [ET.VOID]: "Void",
  [ET.BOOLEAN]: "Boolean",
  [ET.I1]: "SByte",
  [ET.U1]: "Byte",
  [ET.I2]: "Int16",
  [ET.U2]: "UInt16",
  [ET.CHAR]: "Char",
  [ET.I]: "IntPtr",
  [ET.U]: "UIntPtr",
  [ET.I4]: "Int32",
  [ET.U4]: "UInt32",
  [ET.I8]: "Int64",
  [ET.U8]: "UInt64",
  [ET.R4]: "Single",
  [ET.R8]: "Double",
  [ET.OBJECT]: "System.Object",
  [ET.STRING]: "System.String",
  [ET.TYPEDBYREF]: "TypedReference",
};

/** Characters TypeString escapes with a backslash in type names (IsTypeNameReservedChar). */
const RESERVED = /[,[\]&*+\\]/g;

// ---- metadata facts about named types --------------------------------------------------------

interface NameParts {
  /** Outermost first: [namespace, name] of each enclosing type, then the type itself. */
  chain: [string, string][];
  /** The assembly the metadata says defines it (own assembly, or the TypeRef's scope). */
  assembly: string;
}

/** Namespace/name chain of a TypeDef or TypeRef token, outermost first. */
export function nameParts(md: MetadataReader, tok: number): NameParts {
  const chain: [string, string][] = [];
  let t = tok;
  for (let guard = 0; guard < MAX_TYPE_NAME_NESTING; guard++) {
    const rid = tokenRid(t);
    if (tokenTable(t) === T.TypeDef) {
      chain.unshift([md.typeDefNamespace(rid), md.typeDefName(rid)]);
      const outer = md.enclosingType(rid);
      if (!outer) return { chain, assembly: md.assemblyName() || md.moduleName() };
      t = token(T.TypeDef, outer);
    } else if (tokenTable(t) === T.TypeRef) {
      chain.unshift([md.typeRefNamespace(rid), md.typeRefName(rid)]);
      const scope = md.typeRefScope(rid);
      if (tokenTable(scope) === T.TypeRef && scope !== 0) {
        t = scope;
        continue;
      }
      const assembly = tokenTable(scope) === T.AssemblyRef && scope !== 0 ? md.assemblyRefName(tokenRid(scope)) : md.assemblyName() || md.moduleName();
      return { chain, assembly };
    } else {
      throw new CorruptDataError(`${md.name}: token 0x${tok.toString(16)} is not a TypeDef or TypeRef`);
    }
  }
  return { chain, assembly: md.assemblyName() };
}

/** A generic parameter of a type or method definition as a RuntimeType variable (named from metadata). */
export function genericParam(md: MetadataReader, owner: number, index: number): RuntimeType {
  const rows = md.genericParams(owner);
  const rid = rows[index];
  const name = rid === undefined ? `!${index}` : md.genericParamName(rid);
  return { kind: tokenTable(owner) === T.MethodDef ? "mvar" : "var", index, name };
}

// ---- 1. DAC form (TypeString) ------------------------------------------------------------------

const FORMAT_NAMESPACE = 0x1;
const FORMAT_FULLINST = 0x2;
const FORMAT_ASSEMBLY = 0x4;

/** The DAC's name of a type (GetMethodTableName): what dumpmt, dumpobj and !do print as "Name:". */
export function dacTypeName(t: RuntimeType): string {
  return appendType(t, FORMAT_NAMESPACE | FORMAT_FULLINST, 0).text;
}

/** TypeString::AppendType; reports whether an assembly spec was appended (TypeNameBuilder state). */
function appendType(t: RuntimeType, format: number, instNesting: number): { text: string; hasAssembly: boolean } {
  let text: string;
  let assembly: string | undefined;
  switch (t.kind) {
    case "prim":
      text = escapeName(PRIMITIVE_TYPES[t.et] ?? `<element type 0x${t.et.toString(16)}>`);
      assembly = CORE_LIBRARY;
      break;
    case "named": {
      const parts = nameParts(t.md, t.token);
      const chain = format & FORMAT_NAMESPACE ? parts.chain : parts.chain.slice(-1);
      text = chain.map(([ns, name]) => (format & FORMAT_NAMESPACE && ns ? `${escapeName(ns)}.` : "") + escapeName(name)).join("+");
      if (format & (FORMAT_NAMESPACE | FORMAT_ASSEMBLY) && t.args && t.args.length > 0) text += appendInst(t.args, format, instNesting);
      assembly = t.assembly ?? parts.assembly;
      break;
    }
    case "szarray":
    case "ptr":
    case "byref":
    case "array": {
      text = appendType(t.elem, format & ~FORMAT_ASSEMBLY, instNesting).text;
      text += t.kind === "array" ? arrayRank(t.rank) : t.kind === "szarray" ? "[]" : t.kind === "ptr" ? "*" : "&";
      assembly = assemblyOf(t.elem);
      break;
    }
    case "var":
    case "mvar":
      // No "!"/"!!" prefix (FormatGenericParam is not set) and no assembly.
      return { text: escapeName(t.name), hasAssembly: false };
    case "fnptr":
      text = "(fnptr)";
      assembly = undefined;
      break;
  }
  if (format & FORMAT_ASSEMBLY && assembly) {
    // Inside an instantiation only ']' is escaped in assembly names (EscapeEmbeddedAssemblyName).
    return { text: `${text}, ${instNesting > 0 ? assembly.replace(/]/g, "\\]") : assembly}`, hasAssembly: true };
  }
  return { text, hasAssembly: false };
}

/** TypeString::AppendInst: `[[Arg, Assembly],Var,...]`; an argument without assembly loses its brackets. */
function appendInst(args: RuntimeType[], format: number, instNesting: number): string {
  const parts = args.map((a) => {
    const isVar = a.kind === "var" || a.kind === "mvar";
    const argFormat = format & FORMAT_FULLINST && !isVar ? format | FORMAT_NAMESPACE | FORMAT_ASSEMBLY : format & FORMAT_NAMESPACE;
    const r = appendType(a, argFormat, instNesting + 1);
    return r.hasAssembly ? `[${r.text}]` : r.text;
  });
  return `[${parts.join(",")}]`;
}

function arrayRank(rank: number): string {
  if (rank === 1) return "[*]";
  if (rank > 64 || rank < 1) return `[${rank}]`;
  return `[${",".repeat(rank - 1)}]`;
}

function escapeName(s: string): string {
  return s.replace(RESERVED, (c) => `\\${c}`);
}

function assemblyOf(t: RuntimeType): string | undefined {
  for (let g = 0; g < MAX_TYPE_NAME_NESTING; g++) {
    switch (t.kind) {
      case "prim":
        return CORE_LIBRARY;
      case "named":
        return t.assembly ?? nameParts(t.md, t.token).assembly;
      case "var":
      case "mvar":
        return t.assembly;
      case "fnptr":
        return undefined;
      default:
        t = t.elem;
    }
  }
  return undefined;
}

// ---- 2. DAC method form (TypeString + SigFormat) ------------------------------------------------

/** Instantiations that give meaning to VAR/MVAR in a signature (SigTypeContext). */
export interface SigContext {
  classInst?: RuntimeType[];
  methodInst?: RuntimeType[];
  /** Names the runtime TypeHandles of ELEMENT_TYPE_INTERNAL (signatures of DynamicMethods and IL stubs). */
  typeHandle?: (typeHandle: number) => RuntimeType | undefined;
}

/**
 * The DAC's name of a method (GetMethodDescName), as clrstack and pstacks print it:
 * `Namespace.Type.Method(Int32, System.String)`. `owner` is the method's MethodTable (for shared
 * generic code the canonical one: `[[System.__Canon, ...]]`); `methodInst` the instantiation of an
 * instantiated generic method. Without instantiations, generic variables print as the runtime
 * prints a generic definition's: by parameter name (`Id(T)`).
 */
export function dacMethodName(owner: RuntimeType, md: MetadataReader, methodRid: number, methodInst?: RuntimeType[]): string {
  const sig = decodeMethodSig(md.methodSignature(methodRid), `${md.name} MethodDef ${methodRid}`);
  let out = `${dacTypeName(owner)}.${md.methodName(methodRid)}`;
  if (methodInst && methodInst.length > 0) out += appendInst(methodInst, FORMAT_NAMESPACE | FORMAT_FULLINST, 0);
  // SigFormat substitutes the exact class instantiation, else the typical one (the parameters).
  let classInst = owner.kind === "named" ? owner.args : undefined;
  if ((!classInst || classInst.length === 0) && owner.kind === "named" && tokenTable(owner.token) === T.TypeDef) {
    classInst = owner.md.genericParams(owner.token).map((_, i) => genericParam(owner.md, owner.token, i));
  }
  const typicalMethodInst = md.genericParams(token(T.MethodDef, methodRid)).map((_, i) => genericParam(md, token(T.MethodDef, methodRid), i));
  return out + sigFormatParams(md, sig, { classInst, methodInst: methodInst && methodInst.length > 0 ? methodInst : typicalMethodInst });
}

/**
 * SigFormat's parameter list: `(Int32, System.String, Int32 ByRef)` (vararg: `, ...`). `md` names
 * token-named types; without it (signatures of methods without metadata) they are unknown.
 */
export function sigFormatParams(md: MetadataReader | undefined, sig: MethodSig, ctx: SigContext = {}): string {
  const params = sig.params.map((p) => sigFormatType(md, p, ctx, 0));
  let out = params.join(", ");
  if (sig.callingConvention === 0x5) out += params.length ? ", ..." : "...";
  return `(${out})`;
}

/** SigFormat::AddTypeString: a signature type, named from its module's metadata. */
export function sigFormatType(md: MetadataReader | undefined, t: SigType, ctx: SigContext, depth: number): string {
  if (depth > MAX_TYPE_NAME_NESTING) return "**UNKNOWN TYPE**";
  switch (t.kind) {
    case "prim":
      return SIGFORMAT_PRIMITIVES[t.et] ?? "**UNKNOWN TYPE**";
    case "named": {
      if (!md) return "**UNKNOWN TYPE**";
      const rid = tokenRid(t.token);
      if (tokenTable(t.token) === T.TypeDef) return dotted(md.typeDefNamespace(rid), md.typeDefName(rid));
      if (tokenTable(t.token) === T.TypeRef) return dotted(md.typeRefNamespace(rid), md.typeRefName(rid));
      return ""; // a TypeSpec token after CLASS: SigFormat appends nothing
    }
    case "byref":
      return `${sigFormatType(md, t.elem, ctx, depth + 1)} ByRef`;
    case "var": {
      const a = ctx.classInst?.[t.index];
      return a ? sigFormatRuntime(a, 0) : `!${t.index}`;
    }
    case "mvar": {
      const a = ctx.methodInst?.[t.index];
      return a ? sigFormatRuntime(a, 0) : `!!${t.index}`;
    }
    case "generic":
      return `${sigFormatType(md, t.type, ctx, depth + 1)}<${t.args.map((a) => sigFormatType(md, a, ctx, depth + 1)).join(",")}>`;
    case "szarray":
      return `${sigFormatType(md, t.elem, ctx, depth + 1)}[]`;
    case "array":
      return `${sigFormatType(md, t.elem, ctx, depth + 1)}[${",".repeat(Math.max(0, t.rank - 1))}]`;
    case "ptr":
      return `${sigFormatType(md, t.elem, ctx, depth + 1)}*`;
    case "modified":
      return sigFormatType(md, t.elem, ctx, depth + 1); // GetElemType skips custom modifiers
    case "pinned":
      return "**UNKNOWN TYPE**";
    case "internal": {
      const type = ctx.typeHandle?.(t.typeHandle);
      return type ? sigFormatRuntime(type, depth + 1) : "**UNKNOWN TYPE**";
    }
    case "fnptr": {
      const args = t.sig.params.map((p) => sigFormatType(md, p, ctx, depth + 1));
      let list = args.join(", ");
      if (t.sig.callingConvention === 0x5) list += args.length ? ", ..." : "...";
      return `${sigFormatType(md, t.sig.returnType, ctx, depth + 1)} (${list})`;
    }
  }
}

/** SigFormat::AddType: a runtime type substituted for a generic variable. */
export function sigFormatRuntime(t: RuntimeType, depth: number): string {
  if (depth > MAX_TYPE_NAME_NESTING) return "**UNKNOWN TYPE**";
  switch (t.kind) {
    case "prim":
      return SIGFORMAT_PRIMITIVES[t.et] ?? "**UNKNOWN TYPE**";
    case "named": {
      if (t.elementType !== undefined && SIGFORMAT_PRIMITIVES[t.elementType]) return SIGFORMAT_PRIMITIVES[t.elementType]!;
      const parts = nameParts(t.md, t.token);
      const [ns, name] = parts.chain[parts.chain.length - 1]!;
      let out = dotted(ns, name);
      if (t.args && t.args.length > 0) out += `<${t.args.map((a) => sigFormatRuntime(a, depth + 1)).join(",")}>`;
      return out;
    }
    case "byref":
      return `${sigFormatRuntime(t.elem, depth + 1)} ByRef`;
    case "szarray":
      return `${sigFormatRuntime(t.elem, depth + 1)}[]`;
    case "array":
      return `${sigFormatRuntime(t.elem, depth + 1)}[${",".repeat(Math.max(0, t.rank - 1))}]`;
    case "ptr":
      return `${sigFormatRuntime(t.elem, depth + 1)}*`;
    case "var":
    case "mvar":
      return t.name;
    case "fnptr":
      return "**UNKNOWN TYPE**";
  }
}

function dotted(ns: string, name: string): string {
  return ns ? `${ns}.${name}` : name;
}

// ---- 4. pstacks form ---------------------------------------------------------------------------------

/**
 * A SigFormat parameter list ("(System.String[], Scenarios.Pair`2<Int32,System.String>)") as
 * dotnet-dump's pstacks prints it: every type name without its namespace and generic arity
 * ("(String[], Pair<Int32,String>)"). (dotnet-dump cuts "Int32[,]" to "Int32[" by splitting at
 * the comma; the whole type is kept here: docs/sos-differences.md.)
 */
export function shortParameterList(params: string): string {
  return params.replace(/[^<>,[\]*&() ]+/g, (name) => name.slice(name.lastIndexOf(".") + 1).replace(/`\d+$/, ""));
}

// ---- 3. ClrMD form ----------------------------------------------------------------------------------

/** ClrMD's ClrType.Name for a type: C#-like, arguments on the nested type that declares them. */
export function clrmdTypeName(t: RuntimeType): string {
  switch (t.kind) {
    case "prim":
      return PRIMITIVE_TYPES[t.et] ?? `<element type 0x${t.et.toString(16)}>`;
    case "named": {
      const parts = nameParts(t.md, t.token);
      const segments = parts.chain.map(([ns, name], i) => ({ text: i === 0 && ns ? `${ns}.${name}` : name }));
      return renderSegments(segments.map((s) => s.text), t.args?.map(clrmdTypeName));
    }
    case "szarray":
      return `${clrmdTypeName(t.elem)}[]`;
    case "array":
      return `${clrmdTypeName(t.elem)}[${",".repeat(Math.max(0, t.rank - 1))}]`;
    case "ptr":
      return `${clrmdTypeName(t.elem)}*`;
    case "byref":
      return `${clrmdTypeName(t.elem)}&`;
    case "var":
    case "mvar":
      return t.name;
    case "fnptr":
      return "(fnptr)";
  }
}

/**
 * Nested name segments with generic arity suffixes (`Outer`1`, `Inner`2`) and the flat argument
 * list: each segment takes as many arguments as its arity; names without arity get the leftovers
 * at the end. No arguments at all (an open generic) gives T1..Tn.
 */
function renderSegments(segments: string[], args: string[] | undefined): string {
  let next = 0;
  const out = segments.map((seg, i) => {
    const m = /^(.*)`(\d+)$/.exec(seg);
    const base = m ? m[1]! : seg;
    const arity = m ? Number(m[2]) : 0;
    const own: string[] = [];
    for (let k = 0; k < arity; k++) own.push(args && next < args.length ? args[next++]! : `T${k + 1}`);
    if (i === segments.length - 1 && args) while (next < args.length) own.push(args[next++]!);
    return own.length ? `${base}<${own.join(", ")}>` : base;
  });
  return out.join("+");
}

/**
 * Converts a DAC-form name (from GetMethodTableName) to the ClrMD form; returns the input
 * unchanged when it cannot be parsed (as ClrMD does).
 */
export function dacNameToClrmd(name: string): string {
  try {
    const p = new DacNameParser(name);
    const t = p.type();
    if (p.pos !== name.length) return name;
    return p.render(t);
  } catch {
    return name;
  }
}

interface ParsedName {
  segments: string[];
  args: ParsedName[] | undefined;
  suffixes: string[];
}

/** A recursive-descent reader of TypeString output: Name(+Name)*[args]?(suffix)*. */
class DacNameParser {
  pos = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  type(): ParsedName {
    if (++this.depth > MAX_TYPE_NAME_NESTING) throw new Error("too deep");
    const segments = [this.identifier()];
    while (this.s[this.pos] === "+") {
      this.pos++;
      segments.push(this.identifier());
    }
    let args: ParsedName[] | undefined;
    // '[' followed by '[' or a name starts an argument list; "[]", "[,", "[*" are array suffixes.
    if (this.s[this.pos] === "[" && this.pos + 1 < this.s.length && !"],*".includes(this.s[this.pos + 1]!)) {
      this.pos++;
      args = [];
      for (;;) {
        if (this.s[this.pos] === "[") {
          this.pos++;
          args.push(this.type());
          if (this.s[this.pos] === ",") this.skipAssembly();
          this.expect("]");
        } else {
          args.push(this.type());
        }
        if (this.s[this.pos] === ",") {
          this.pos++;
          continue;
        }
        this.expect("]");
        break;
      }
    }
    const suffixes: string[] = [];
    for (;;) {
      const c = this.s[this.pos];
      if (c === "*" || c === "&") {
        suffixes.push(c);
        this.pos++;
      } else if (c === "[") {
        const end = this.s.indexOf("]", this.pos);
        if (end < 0 || !/^\[[,*]*$/.test(this.s.slice(this.pos, end))) break;
        suffixes.push(this.s.slice(this.pos, end + 1));
        this.pos = end + 1;
      } else break;
    }
    this.depth--;
    return { segments, args, suffixes };
  }

  private identifier(): string {
    let out = "";
    while (this.pos < this.s.length) {
      const c = this.s[this.pos]!;
      if (c === "\\" && this.pos + 1 < this.s.length) {
        out += this.s[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (c === "[" || c === "]" || c === "," || c === "+" || c === "*" || c === "&") break;
      out += c;
      this.pos++;
    }
    if (!out) throw new Error("empty name");
    return out;
  }

  private skipAssembly(): void {
    while (this.pos < this.s.length && this.s[this.pos] !== "]") {
      if (this.s[this.pos] === "\\") this.pos++;
      this.pos++;
    }
  }

  private expect(c: string): void {
    if (this.s[this.pos] !== c) throw new Error(`expected ${c}`);
    this.pos++;
  }

  render(t: ParsedName): string {
    // ClrMD counts array dimensions by commas: a rank-1 "[*]" comes out as "[]".
    const suffix = t.suffixes.map((x) => (x.startsWith("[") ? `[${",".repeat((x.match(/,/g) ?? []).length)}]` : x)).join("");
    return renderSegments(t.segments, t.args?.map((a) => this.render(a))) + suffix;
  }
}

/** The TypeDef rid of a DAC-style name (`Namespace.Outer+Inner`, backslash escapes allowed), or 0. */
export function findTypeByName(md: MetadataReader, fullName: string): number {
  const parts: string[] = [""];
  for (let i = 0; i < fullName.length; i++) {
    const c = fullName[i]!;
    if (c === "\\" && i + 1 < fullName.length) parts[parts.length - 1] += fullName[++i];
    else if (c === "+") parts.push("");
    else parts[parts.length - 1] += c;
  }
  const first = parts[0]!;
  const dot = first.lastIndexOf(".");
  let rid = md.findTypeDef(dot < 0 ? "" : first.slice(0, dot), dot < 0 ? first : first.slice(dot + 1));
  for (let i = 1; i < parts.length && rid; i++) rid = md.findTypeDef("", parts[i]!, rid);
  return rid;
}
