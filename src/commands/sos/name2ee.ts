// `name2ee <module|*> <name>` or `name2ee <module|*>!<name>` (SOS Name2EE, Name2EECommand.cs in
// dotnet/diagnostics, over ClrMD): in each matching module, walks the loaded types (the
// TypeDefToMethodTableMap) in token order and reports every type whose ClrMD name contains the
// query (case-insensitive), or, for "Type.Method", the first method of a type whose name contains
// "Type" (ClrMD lists a type's methods from its first NumMethods slots that have an entry point).
// A type's name is ClrMD's (`Outer2<T1>+Inner2<T1>`, `List<System.Int32>`); a method's is SOS's
// (GetMethodDescName). With no such method, a field of that name (ClrMD's instance fields, the
// parents' included, then the type's own statics; literals have no FieldDesc) names its type.
// clrscope's addition: a name in the runtime's own form (`Scenarios.Outer+Inner\`1`, as dumpmt and
// dumpmodule print it) also finds that type and its methods (by metadata), which SOS cannot find.
import { ClrscopeError, CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { MAX_PARENT_TYPES } from "../../limits.js";
import { dacNameToClrmd } from "../../metadata/type-names.js";
import { T, token, tokenTable } from "../../metadata/tables.js";
import { fileNameOf } from "../../native/modules.js";
import { defineCommand, hexAddress } from "../command.js";
import type { SourceModule, TypeSource } from "../../runtime/type-source.js";

export interface Name2eeMatch {
  kind: "type" | "method" | "field";
  module: string;
  /** File name of the module's assembly, e.g. "hello.dll" ("<unknown>" without a path). */
  assembly: string;
  /** TypeDef ("0x02...") or MethodDef ("0x06...") token. */
  token: string;
  /** Types: ClrMD's name ("Scenarios.Outer2<T1>"); methods: SOS's name with parameters. */
  name: string;
  /** The type's MethodTable (of the method's type, for methods). */
  methodTable: string;
  /** Fields: the field's name (SOS then prints the type that has it). */
  field?: string;
  /** Methods: the MethodDesc. */
  methodDesc?: string;
  /** Methods: native code address, null when not compiled yet (SOS prints ffffffffffffffff, the DAC's "none"). */
  codeAddress?: string | null;
}


export interface Name2eeResult {
  moduleQuery: string;
  nameQuery: string;
  /** Modules whose name matched the module query (all, for "*"). */
  modulesScanned: number;
  /** Every match, module by module. */
  matches: Name2eeMatch[];
  /** Named modules (not "*") without a match: SOS prints their header alone. */
  modulesWithoutMatches: { module: string; assembly: string }[];
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend: "contracts" | "dac";
}

const MODULE_SEPARATOR = "--------------------------------------";
const MATCH_SEPARATOR = "-----------------------";

function moduleMatches(query: string, path: string): boolean {
  if (!path) return false;
  const q = query.toLowerCase();
  const file = fileNameOf(path).toLowerCase();
  return q === file || q === file.replace(/\.[^.]*$/, "") || q === path.toLowerCase();
}

/**
 * The first of a type's methods (ClrMD's order: slots 0..NumMethods-1 with an entry point) named
 * `member`, by the MethodDef name in the metadata.
 */
function findMethod(src: TypeSource, methodTable: number, member: string, byMetadata: boolean): { methodDesc: number; token: number } | undefined {
  const mt = src.methodTable(methodTable);
  const slots = src
    .slots(methodTable)
    .filter((s) => s.slot < mt.numMethods && s.entry !== 0 && s.methodDesc !== 0)
    .sort((a, b) => a.slot - b.slot);
  for (const s of slots) {
    let md;
    try {
      md = src.methodDesc(s.methodDesc);
    } catch (e) {
      if (e instanceof ClrscopeError) continue;
      throw e;
    }
    const rid = md.token & 0xffffff;
    if (tokenTable(md.token) !== T.MethodDef || rid === 0) continue;
    const meta = src.moduleMetadata(md.module);
    let name: string | undefined;
    try {
      name = meta?.methodName(rid);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    if (name === member) return { methodDesc: s.methodDesc, token: md.token };
  }
  if (!byMetadata) return undefined;
  // clrscope's addition: the type's MethodDefs by name, mapped through MethodDefToDescMap.
  const meta = src.moduleMetadata(mt.module);
  if (!meta || tokenTable(mt.token) !== T.TypeDef) return undefined;
  for (const rid of meta.methods(mt.token & 0xffffff)) {
    if (meta.methodName(rid) !== member) continue;
    const methodDesc = src.methodDefDesc(mt.module, rid);
    if (methodDesc !== 0) return { methodDesc, token: token(T.MethodDef, rid) };
  }
  return undefined;
}

/** FieldAttributes: Static, Literal (a constant: no FieldDesc, so ClrMD does not list it). */
const FIELD_STATIC = 0x0010;
const FIELD_LITERAL = 0x0040;

/** A field ClrMD lists for the type is named `name`: an instance field of it or a parent, or its own static. */
function hasField(src: TypeSource, methodTable: number, name: string): boolean {
  let mt = methodTable;
  for (let depth = 0; mt !== 0 && depth < MAX_PARENT_TYPES; depth++) {
    let data;
    try {
      data = src.methodTable(mt);
    } catch (e) {
      if (e instanceof ClrscopeError) return false;
      throw e;
    }
    const meta = src.moduleMetadata(data.module);
    if (meta && tokenTable(data.token) === T.TypeDef) {
      for (const rid of meta.fields(data.token & 0xffffff)) {
        const flags = meta.fieldFlags(rid);
        if (flags & FIELD_LITERAL || (depth > 0 && flags & FIELD_STATIC)) continue;
        if (meta.fieldName(rid) === name) return true;
      }
    }
    mt = data.parent;
  }
  return false;
}

/**
 * Whether `methodTable` or one of its parents declares a method named `member` in its metadata
 * (unknown: yes). A slot's method is declared by the type or a parent, so when none does, the
 * costly read of the type's slots (findMethod) cannot match and is skipped. Memoized per query.
 */
function chainDeclaresMethod(src: TypeSource, methodTable: number, member: string, memo: Map<number, boolean>, depth = 0): boolean {
  const known = memo.get(methodTable);
  if (known !== undefined) return known;
  let answer = true;
  try {
    const data = src.methodTable(methodTable);
    const meta = src.moduleMetadata(data.module);
    const own = !meta || tokenTable(data.token) !== T.TypeDef || meta.methods(data.token & 0xffffff).some((rid) => meta.methodName(rid) === member);
    answer = own || (data.parent !== 0 && (depth >= MAX_PARENT_TYPES || chainDeclaresMethod(src, data.parent, member, memo, depth + 1)));
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
  }
  memo.set(methodTable, answer);
  return answer;
}

function searchModule(src: TypeSource, m: SourceModule, query: string, declaresMethod: Map<number, boolean>): Name2eeMatch[] {
  // SOS takes '/' as the nested-type separator too.
  const name = query.replace(/\//g, "+");
  const lower = name.toLowerCase();
  let dot = name.lastIndexOf(".");
  if (dot > 0 && name[dot - 1] === ".") dot--; // "Type..ctor": the member is ".ctor"
  const typePart = dot > 0 ? name.slice(0, dot).toLowerCase() : undefined;
  const member = dot > 0 ? name.slice(dot + 1) : undefined;
  const matches: Name2eeMatch[] = [];
  const module = hexAddress(m.address);
  const assembly = m.path ? fileNameOf(m.path) : "<unknown>";
  for (const { rid, methodTable } of src.typeDefMethodTables(m.address)) {
    const runtimeName = src.typeName(methodTable);
    if (runtimeName === undefined) continue;
    const typeName = dacNameToClrmd(runtimeName);
    const lowerType = typeName.toLowerCase();
    if (lowerType.includes(lower) || runtimeName === name) {
      matches.push({ kind: "type", module, assembly, token: hexAddress(token(T.TypeDef, rid)), name: typeName, methodTable: hexAddress(methodTable) });
      continue;
    }
    if (typePart === undefined || member === undefined ) continue;
    // clrscope's addition, for names SOS cannot match (the runtime's generic form differs from ClrMD's).
    const byRuntimeName = runtimeName !== typeName && runtimeName.toLowerCase() === typePart;
    if (!lowerType.includes(typePart) && !byRuntimeName) continue;
    const method = chainDeclaresMethod(src, methodTable, member, declaresMethod) ? findMethod(src, methodTable, member, byRuntimeName) : undefined;
    if (!method) {
      if (hasField(src, methodTable, member)) {
        matches.push({ kind: "field", module, assembly, token: hexAddress((0x02000000 | rid) >>> 0), name: typeName, methodTable: hexAddress(methodTable), field: member });
      }
      continue;
    }
    const code = src.methodDesc(method.methodDesc).nativeCode;
    matches.push({
      kind: "method",
      module,
      assembly,
      token: hexAddress(method.token),
      name: src.methodSignature(method.methodDesc),
      methodTable: hexAddress(methodTable),
      methodDesc: hexAddress(method.methodDesc),
      codeAddress: code ? hexAddress(code) : null,
    });
  }
  return matches;
}

export const name2ee = defineCommand<Name2eeResult>({
  names: ["name2ee"],
  summary: "SOS: the MethodTable or MethodDesc of a type or method, by name",
  usage: "name2ee MODULE|* TYPE[.METHOD]   or   name2ee MODULE!TYPE[.METHOD]",
  mayAskDac: () => false,
  run(session, args) {
    let moduleQuery: string;
    let nameQuery: string;
    if (args.length === 1 && args[0]!.includes("!")) {
      const bang = args[0]!.indexOf("!");
      moduleQuery = args[0]!.slice(0, bang);
      nameQuery = args[0]!.slice(bang + 1);
    } else if (args.length === 2) {
      moduleQuery = args[0]!;
      nameQuery = args[1]!;
    } else {
      throw new CommandError("usage: name2ee MODULE|* TYPE[.METHOD]  (or MODULE!TYPE[.METHOD])", "usage");
    }
    if (!moduleQuery || !nameQuery) throw new CommandError("usage: name2ee MODULE|* TYPE[.METHOD]", "usage");
    const src = session.managed.typeSource();
    const wildcard = moduleQuery === "*";
    const candidates = src.modules().filter((m) => wildcard || moduleMatches(moduleQuery, m.path));
    if (candidates.length === 0) throw new CommandError(`Failed to find module matching '${moduleQuery}'.`, "no-such-module");
    const matches: Name2eeMatch[] = [];
    const modulesWithoutMatches: { module: string; assembly: string }[] = [];
    const declaresMethod = new Map<number, boolean>();
    for (const m of candidates) {
      const found = searchModule(src, m, nameQuery, declaresMethod);
      matches.push(...found);
      if (found.length === 0 && !wildcard) modulesWithoutMatches.push({ module: hexAddress(m.address), assembly: m.path ? fileNameOf(m.path) : "<unknown>" });
    }
    return { moduleQuery, nameQuery, modulesScanned: candidates.length, matches, modulesWithoutMatches, backend: src.backend };
  },
  render(r) {
    const x16 = (h: string) => hexDigits(parseInt(h, 16), 16);
    const out: string[] = [];
    // Modules in the order searched: those without matches (named queries) in between.
    const header = (m: { module: string; assembly: string }) => {
      if (out.length > 0) out.push(MODULE_SEPARATOR);
      out.push(`Module:      ${x16(m.module)}`, `Assembly:    ${m.assembly}`);
    };
    for (const m of r.modulesWithoutMatches) header(m);
    r.matches.forEach((match, i) => {
      if (i === 0 || r.matches[i - 1]!.module !== match.module) header(match);
      else out.push(MATCH_SEPARATOR);
      if (match.kind === "field") out.push(`Field ${match.field} (mdToken token) of`);
      out.push(`Token:       ${x16(match.token)}`);
      if (match.kind === "method") {
        out.push(`MethodDesc:  ${x16(match.methodDesc!)}`, `Name:        ${match.name}`);
        out.push(`JITTED Code Address: ${match.codeAddress ? x16(match.codeAddress) : "ffffffffffffffff"}`);
      } else {
        out.push(`MethodTable: ${x16(match.methodTable)}`, `Name:        ${match.name}`);
      }
    });
    const unmatched = r.modulesScanned - new Set(r.matches.map((m) => m.module)).size;
    if (r.moduleQuery === "*" && unmatched > 0) {
      if (r.matches.length > 0) out.push(MODULE_SEPARATOR);
      out.push("", `Scanned ${unmatched} module${unmatched === 1 ? "" : "s"} which had no matches.`);
    }
    return out.join("\n");
  },
});
