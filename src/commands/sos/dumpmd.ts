// `dumpmd <MethodDesc>` (SOS DumpMD, util.cpp DumpMDInfoFromMethodDescData): a MethodDesc's name,
// EEClass, MethodTable, token, module, current native code and its code version history (the
// CodeVersions contract; tiers from the descriptor, or from the DAC where the descriptor has none).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import type { MethodCodeVersions } from "../../runtime/clr-runtime.js";
import { defineCommand, hexAddress, parseArgs, parseNumber, type Session } from "../command.js";
import { methodDescWithType, type JitKind } from "../../runtime/type-source.js";

/** One native code version (SOS: `CodeAddr` and `NativeCodeVersion` lines). */
export interface DumpmdNativeCodeVersion {
  /** Start of its code ("0x0" when not compiled yet). */
  codeAddress: string;
  /** The NativeCodeVersionNode; "0x0" for the default version, whose code is the MethodDesc's own. */
  nativeCodeVersion: string;
  isActive: boolean;
  /** SOS's tier name ("QuickJitted", "OptimizedTier1", ...); null when neither the descriptor nor the DAC gives it. */
  tier: string | null;
}

/** One IL code version (SOS: `ILCodeVersion`, `ReJIT ID`, `IL Addr`) and its native code versions. */
export interface DumpmdILCodeVersion {
  /** The ILCodeVersionNode; "0x0" for the default version (the method's own IL). */
  ilCodeVersion: string;
  rejitId: number;
  /** Address of the IL; null when the runtime does not publish it (ILCodeVersionNode.ILAddress). */
  ilAddress: string | null;
  isActive: boolean;
  /** In the runtime's order (default version first); SOS prints them last to first. */
  nativeCodeVersions: DumpmdNativeCodeVersion[];
}

export interface DumpmdResult {
  methodDesc: string;
  /** SOS's method name with parameter types. */
  name: string;
  /** EEClass of the method's type. */
  eeClass: string;
  /**
   * What SOS prints as `Class:`: the DAC's MethodTableData.Class, the EEClass up to .NET 8 and the
   * canonical MethodTable since .NET 9 (the runtime prefers it over the EEClass).
   */
  sosClass: string;
  methodTable: string;
  /** MethodDef token, "0x06xxxxxx". */
  token: string;
  module: string;
  modulePath: string;
  /** MethodDesc classification: IL, FCall, PInvoke, EEImpl, Array, Instantiated, ComInterop, Dynamic; null when the backend does not say (the DAC names only Dynamic). */
  classification: string | null;
  slot: number;
  /** null when unknown (the DAC backend reads it from metadata; dynamic methods have none). */
  isStatic: boolean | null;
  /** The method has native code (JIT'd or ReadyToRun). */
  isJitted: boolean;
  jit: JitKind;
  /** Native code address ("0x0" when none): the active native code version's (for ip2md, the one holding the address). */
  codeAddress: string;
  /** SOS "Version History": the active IL code version first, then any others (reverted rejits). */
  versionHistory: DumpmdILCodeVersion[];
  /** Where the tiers come from: the runtime's descriptor, the DAC (the descriptor has none), or nowhere (null). */
  tierSource: "descriptor" | "dac" | null;
  /** What is missing from the version history and why (e.g. fields the descriptor does not publish). */
  versionNotes: string[];
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend: "contracts" | "dac";
  /** Fields this backend does not know: "eeClass" (the canonical MethodTable stands in, as in SOS on .NET 9+), "classification", "isStatic". */
  unavailable?: string[];
}

export const dumpmd = defineCommand<DumpmdResult>({
  names: ["dumpmd"],
  summary: "SOS: a MethodDesc's method, type, token, module and code",
  usage: "dumpmd METHODDESC",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length !== 1) throw new CommandError("usage: dumpmd METHODDESC", "usage");
    return dumpMethodDesc(session, parseNumber(a.positional[0]!));
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    return [
      `Method Name:          ${r.name}`,
      `Class:                ${p(r.sosClass)}`,
      `MethodTable:          ${p(r.methodTable)}`,
      // SOS prints the token with %p: upper case on Linux.
      `mdToken:              ${p(r.token).toUpperCase()}`,
      `Module:               ${p(r.module)}`,
      `IsJitted:             ${r.isJitted ? "yes" : "no"}`,
      `Current CodeAddr:     ${r.codeAddress === "0x0" ? "ffffffffffffffff" : p(r.codeAddress)}`,
      "Version History:",
      ...r.versionHistory.flatMap((il) => [
        // %p in SOS (upper case on Linux); the code and IL addresses are DML links, lower case.
        `  ILCodeVersion:      ${p(il.ilCodeVersion).toUpperCase()}`,
        `  ReJIT ID:           ${il.rejitId}`,
        `  IL Addr:            ${il.ilAddress === null ? "<unknown>" : p(il.ilAddress)}`,
        ...[...il.nativeCodeVersions].reverse().flatMap((v) => [
          `     CodeAddr:           ${p(v.codeAddress)}  (${v.tier ?? "Unknown Tier"})`,
          `     NativeCodeVersion:  ${p(v.nativeCodeVersion).toUpperCase()}`,
        ]),
      ]),
    ].join("\n");
  },
});

/**
 * The DumpMD data of the MethodDesc at `address`. `requestedCode` (ip2md): the start of the code
 * holding the address asked about, whose native code version is then the "Current CodeAddr".
 */
export function dumpMethodDesc(session: Session, address: number, requestedCode?: number): DumpmdResult {
  const src = session.managed.typeSource();
  const { md, mt } = methodDescWithType(src, address);
  const history = src.codeVersionHistory(address);
  const natives = history.versions?.ilVersions.flatMap((il) => il.nativeVersions) ?? [];
  const current = (requestedCode !== undefined ? natives.find((v) => v.nativeCode === requestedCode) : undefined) ?? history.versions?.activeNativeVersion;
  const codeAddress = current && current.nativeCode !== 0 ? current.nativeCode : md.nativeCode;
  const jit = src.jitKind(codeAddress, mt.module);
  const unavailable = [...(mt.eeClassIsCanonicalMethodTable ? ["eeClass"] : []), ...(["classification", "isStatic"] as const).filter((k) => md[k] === null)];
  return {
    ...(unavailable.length > 0 ? { unavailable } : {}),
    methodDesc: hexAddress(address),
    name: src.methodSignature(address),
    eeClass: hexAddress(mt.eeClass),
    sosClass: hexAddress(mt.prefersCanonicalMethodTable ? mt.canonical ?? md.methodTable : mt.eeClass),
    methodTable: hexAddress(md.methodTable),
    token: hexAddress(md.token),
    module: hexAddress(mt.module),
    modulePath: src.modulePath(mt.module),
    classification: md.classification,
    slot: md.slot,
    isStatic: md.isStatic,
    isJitted: jit === "JIT" || jit === "PreJIT",
    jit,
    codeAddress: hexAddress(codeAddress),
    versionHistory: history.versions ? historyRows(history.versions.ilVersions, history.dacTiers) : [],
    tierSource: history.tierSource,
    versionNotes: history.notes,
    backend: src.backend,
  };
}

/** SOS's rows of IL code versions, in the order given; tiers the versions lack are looked up in `dacTiers` ("rejitId:node"). */
function historyRows(ilVersions: MethodCodeVersions["ilVersions"], dacTiers: Map<string, string>): DumpmdILCodeVersion[] {
  return ilVersions.map((il) => ({
    ilCodeVersion: hexAddress(il.node),
    rejitId: il.rejitId,
    ilAddress: il.ilAddress === undefined ? null : hexAddress(il.ilAddress),
    isActive: il.isActive,
    nativeCodeVersions: il.nativeVersions.map((v) => ({
      codeAddress: hexAddress(v.nativeCode),
      nativeCodeVersion: hexAddress(v.node),
      isActive: v.isActive,
      tier: v.tier ?? dacTiers.get(`${il.rejitId}:${v.node}`) ?? null,
    })),
  }));
}
