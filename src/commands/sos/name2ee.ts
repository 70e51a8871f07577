// `name2ee <module|*> <Namespace.Type[.Method]>` or `name2ee <module|*>!<name>` (SOS Name2EE):
// finds a type or method by name in the metadata of the loaded modules and maps its token to the
// runtime's MethodTable or MethodDesc through the module's lookup maps (Loader contract:
// TypeDefToMethodTableMap, MethodDefToDescMap).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import type { MetadataReader } from "../../metadata/metadata.js";
import { findTypeByName } from "../../metadata/type-names.js";
import { defineCommand, hexAddress } from "../command.js";
import { fileNameOf } from "../../native/modules.js";
import { T, token } from "../../metadata/tables.js";

export interface Name2eeMatch {
  kind: "type" | "method";
  module: string;
  /** File name of the module's assembly, e.g. "hello.dll". */
  assembly: string;
  /** TypeDef ("0x02...") or MethodDef ("0x06...") token. */
  token: string;
  /** SOS's name: "Namespace.Type" for types, "Namespace.Type.Method(params)" for methods. */
  name: string;
  /** Types: the loaded MethodTable, null when the type is not loaded yet. */
  methodTable?: string | null;
  /** Types: the EEClass of the loaded MethodTable. */
  eeClass?: string | null;
  /** Fields this backend does not know: "eeClass" (the DAC of .NET 9+ gives the canonical MethodTable in its place, as SOS prints it). */
  unavailable?: string[];
  /** Methods: the MethodDesc, null when the runtime has not created it yet. */
  methodDesc?: string | null;
  /** Methods: native code address, null when not compiled yet. */
  codeAddress?: string | null;
}

export interface Name2eeResult {
  moduleQuery: string;
  nameQuery: string;
  /** Modules whose name matched the module query (all, for "*"). */
  modulesScanned: number;
  matches: Name2eeMatch[];
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend: "contracts" | "dac";
}

const SEPARATOR = "--------------------------------------";

function moduleMatches(query: string, path: string, fileName: string): boolean {
  if (query === "*") return true;
  const q = query.toLowerCase();
  const base = (fileNameOf(path) || fileName).toLowerCase();
  const noExt = base.replace(/\.(dll|exe)$/, "");
  return q === base || q === noExt || q === path.toLowerCase() || q === fileName.toLowerCase();
}

/** Candidate (type, method) splits of "A.B.C.Method" (method names may start with "." as .ctor). */
function methodSplits(name: string): { type: string; method: string }[] {
  const out: { type: string; method: string }[] = [];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== ".") continue;
    const type = name.slice(0, i);
    if (type.endsWith(".")) continue;
    out.push({ type, method: name.slice(i + 1) });
  }
  return out;
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
    const modules = src.modules().filter((m) => moduleMatches(moduleQuery, m.path, m.fileName));
    if (modules.length === 0) throw new CommandError(`Failed to find module matching '${moduleQuery}'.`, "no-such-module");
    const matches: Name2eeMatch[] = [];
    for (const m of modules) {
      const meta: MetadataReader | undefined = src.moduleMetadata(m.address);
      if (!meta) continue;
      const assembly = fileNameOf(m.path) || `module 0x${m.address.toString(16)}`;
      const typeRid = findTypeByName(meta, nameQuery);
      if (typeRid) {
        const typeToken = token(T.TypeDef, typeRid);
        const mt = src.typeDefMethodTable(m.address, typeRid);
        const data = mt ? src.methodTable(mt) : undefined;
        matches.push({
          ...(data?.eeClassIsCanonicalMethodTable ? { unavailable: ["eeClass"] } : {}),
          kind: "type",
          module: hexAddress(m.address),
          assembly,
          token: hexAddress(typeToken),
          name: mt ? src.typeName(mt) ?? nameQuery : nameQuery,
          methodTable: mt ? hexAddress(mt) : null,
          eeClass: data ? hexAddress(data.eeClass) : null,
        });
        continue;
      }
      for (const { type, method } of methodSplits(nameQuery)) {
        const rid = findTypeByName(meta, type);
        if (!rid) continue;
        for (const methodRid of meta.methods(rid)) {
          if (meta.methodName(methodRid) !== method) continue;
          const methodToken = token(T.MethodDef, methodRid);
          const md = src.methodDefDesc(m.address, methodRid);
          const code = md ? src.methodDesc(md).nativeCode : 0;
          matches.push({
            kind: "method",
            module: hexAddress(m.address),
            assembly,
            token: hexAddress(methodToken),
            name: md ? src.methodSignature(md) : `${type}.${method}`,
            methodDesc: md ? hexAddress(md) : null,
            codeAddress: code ? hexAddress(code) : null,
          });
        }
        break;
      }
    }
    return { moduleQuery, nameQuery, modulesScanned: modules.length, matches, backend: src.backend };
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    const blocks: string[] = [];
    for (const m of r.matches) {
      const lines = [`Module:      ${p(m.module)}`, `Assembly:    ${m.assembly}`, `Token:       ${p(m.token)}`];
      if (m.kind === "type") {
        lines.push(`MethodTable: ${m.methodTable ? p(m.methodTable) : "<not loaded yet>"}`);
        if (m.eeClass) lines.push(`EEClass:     ${p(m.eeClass)}`);
        lines.push(`Name:        ${m.name}`);
      } else {
        lines.push(`MethodDesc:  ${m.methodDesc ? p(m.methodDesc) : "<not loaded yet>"}`);
        lines.push(`Name:        ${m.name}`);
        if (m.codeAddress) lines.push(`JITTED Code Address: ${p(m.codeAddress)}`);
        else if (m.methodDesc) lines.push(`Not JITTED yet. Use !bpmd -md ${p(m.methodDesc)} to break on run.`);
      }
      blocks.push(lines.join("\n"));
    }
    const out = blocks.join(`\n${SEPARATOR}\n`);
    const unmatched = r.modulesScanned - new Set(r.matches.map((m) => m.module)).size;
    if (r.moduleQuery === "*" && unmatched > 0) return (out ? out + "\n" : "") + `Scanned ${unmatched} modules which had no matches.`;
    return out || `No type or method named '${r.nameQuery}' in the matching module(s).`;
  },
});
