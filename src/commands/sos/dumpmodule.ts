// `dumpmodule [-mt] <Module>` (SOS, strike.cpp DumpModule): a Module's name, attributes,
// assembly, base address, LoaderAllocator, lookup-map tables and metadata location; with -mt
// the types defined in (TypeDefToMethodTableMap) and referenced by (TypeRefToMethodTableMap)
// the module that have a loaded MethodTable.
//
// JSON: DumpModuleResult. Map addresses are each map's TableData (what SOS prints); `token` in
// the -mt rows is the real TypeDef/TypeRef token (SOS prints both kinds as 0x02xxxxxx: it passes
// mdTypeDefNil for both maps; the text reproduces that).
import { CommandError, ClrscopeError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import type { ModuleDetails, ModuleTypeEntry } from "../../runtime/model.js";
import { T, token, tokenRid } from "../../metadata/tables.js";

export interface ModuleTypeRow {
  methodTable: string;
  token: string;
  name: string;
}

export interface DumpModuleResult {
  address: string;
  name: string;
  attributes: string[];
  assembly: string;
  peAssembly: string;
  baseAddress: string;
  /** Module::m_loaderAllocator (SOS's "LoaderHeap" line). */
  loaderAllocator: string;
  typeDefToMethodTableMap: string;
  typeRefToMethodTableMap: string;
  methodDefToDescMap: string;
  fieldDefToDescMap: string;
  memberRefToDescMap: string;
  /** Not kept by this runtime: always 0x0. */
  fileReferencesMap: string;
  assemblyReferencesMap: string;
  flags: number;
  readyToRunInfo: string;
  metadata: { address: string; size: number } | null;
  /** With -mt. */
  typeDefs?: ModuleTypeRow[];
  typeRefs?: ModuleTypeRow[];
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend?: "contracts" | "dac";
  /** Fields this backend does not know (shown as 0): the DAC has no ReadyToRunInfo, and since .NET 9 no PEAssembly. */
  unavailable?: string[];
}

const DASHES = "-".repeat(78);

const typeRow = (t: ModuleTypeEntry): ModuleTypeRow => ({ methodTable: hexAddress(t.methodTable), token: hexAddress(t.token), name: t.name });

function dumpModuleResult(m: ModuleDetails, backend: "contracts" | "dac"): DumpModuleResult {
  const result: DumpModuleResult = {
    address: hexAddress(m.address),
    name: m.name,
    attributes: m.attributes,
    assembly: hexAddress(m.assembly),
    peAssembly: hexAddress(m.peAssembly),
    baseAddress: hexAddress(m.baseAddress),
    loaderAllocator: hexAddress(m.loaderAllocator),
    typeDefToMethodTableMap: hexAddress(m.typeDefToMethodTableMap),
    typeRefToMethodTableMap: hexAddress(m.typeRefToMethodTableMap),
    methodDefToDescMap: hexAddress(m.methodDefToDescMap),
    fieldDefToDescMap: hexAddress(m.fieldDefToDescMap),
    memberRefToDescMap: hexAddress(m.memberRefToDescMap),
    fileReferencesMap: hexAddress(m.fileReferencesMap),
    assemblyReferencesMap: hexAddress(m.assemblyReferencesMap),
    flags: m.flags,
    readyToRunInfo: hexAddress(m.readyToRunInfo),
    metadata: m.metadata ? { address: hexAddress(m.metadata.address), size: m.metadata.size } : null,
    backend,
  };
  if (m.unavailable) result.unavailable = m.unavailable;
  if (m.typeDefs) result.typeDefs = m.typeDefs.map(typeRow);
  if (m.typeRefs) result.typeRefs = m.typeRefs.map(typeRow);
  return result;
}

export const dumpModule = defineCommand<DumpModuleResult>({
  names: ["dumpmodule"],
  summary: "SOS: a Module's attributes, lookup maps and metadata (-mt: its loaded types)",
  usage: "dumpmodule [-mt] MODULE",
  mayAskDac: () => false,
  run(session, args) {
    const a = parseArgs(args, [], ["-mt"]);
    if (a.positional.length !== 1) throw new CommandError("Usage: DumpModule [-mt] <Module Address>", "usage");
    const address = parseNumber(a.positional[0]!);
    // One data source per session (runtime/type-source.ts).
    const src = session.managed.typeSource();
    let m: ModuleDetails;
    try {
      m = src.moduleDetails(address, a.switches.has("-mt"));
    } catch (e) {
      if (e instanceof ClrscopeError) throw new CommandError(`Fail to fill Module ${hexDigits(address, 16)} (${e.message})`, "not-a-module");
      throw e;
    }
    return dumpModuleResult(m, src.backend);
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    // As SOS: the assembly in lower case, the other addresses in upper case.
    const P = (h: string) => p(h).toUpperCase();
    const out = [
      `Name: ${r.name || "Unknown Module"}`,
      `Attributes:              ${r.attributes.map((x) => x + " ").join("")}`,
      `Assembly:                ${p(r.assembly)}`,
      `BaseAddress:             ${P(r.baseAddress)}`,
      `LoaderHeap:              ${P(r.loaderAllocator)}`,
      `TypeDefToMethodTableMap: ${P(r.typeDefToMethodTableMap)}`,
      `TypeRefToMethodTableMap: ${P(r.typeRefToMethodTableMap)}`,
      `MethodDefToDescMap:      ${P(r.methodDefToDescMap)}`,
      `FieldDefToDescMap:       ${P(r.fieldDefToDescMap)}`,
      `MemberRefToDescMap:      ${P(r.memberRefToDescMap)}`,
      `FileReferencesMap:       ${P(r.fileReferencesMap)}`,
      `AssemblyReferencesMap:   ${P(r.assemblyReferencesMap)}`,
    ];
    if (parseInt(r.baseAddress, 16) !== 0 && r.metadata) out.push(`MetaData start address:  ${P(r.metadata.address)} (${r.metadata.size} bytes)`);
    // SOS prints both maps' tokens as TokenFromRid(rid, mdTypeDefNil): 0x02xxxxxx.
    const row = (t: ModuleTypeRow) => `${p(t.methodTable)} 0x${hexDigits(token(T.TypeDef, tokenRid(parseInt(t.token, 16))), 8)} ${t.name}`;
    if (r.typeDefs) {
      out.push("", "Types defined in this module", "", `${"MT".padStart(16)} ${"TypeDef".padStart(16)} Name`, DASHES, ...r.typeDefs.map(row));
    }
    if (r.typeRefs) {
      out.push("", "Types referenced in this module", "", `${"MT".padStart(16)}   ${"TypeRef".padStart(16)} Name`, DASHES, ...r.typeRefs.map(row));
    }
    return out.join("\n");
  },
});
