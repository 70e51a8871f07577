// `dumpmd <MethodDesc>` (SOS DumpMD, util.cpp DumpMDInfoFromMethodDescData): a MethodDesc's name,
// EEClass, MethodTable, token, module and current native code.
import { ClrscopeError, CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import { typeSource, type JitKind } from "./type-source.js";

export interface DumpmdResult {
  methodDesc: string;
  /** SOS's method name with parameter types. */
  name: string;
  /** EEClass of the method's type (SOS "Class:"). */
  eeClass: string;
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
  /** Native code address ("0x0" when none). */
  codeAddress: string;
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
    const address = parseNumber(a.positional[0]!);
    const src = typeSource(session);
    let md, mt;
    try {
      md = src.methodDesc(address);
      mt = src.methodTable(md.methodTable);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      throw new CommandError(`${hexAddress(address)} is not a MethodDesc`, "not-a-methoddesc");
    }
    if (mt.eeClass === 0 || mt.module === 0) throw new CommandError(`${hexAddress(address)} is not a MethodDesc`, "not-a-methoddesc");
    const jit = src.jitKind(md.nativeCode, mt.module);
    const unavailable = [...(mt.eeClassIsCanonicalMethodTable ? ["eeClass"] : []), ...(["classification", "isStatic"] as const).filter((k) => md[k] === null)];
    return {
      ...(unavailable.length > 0 ? { unavailable } : {}),
      methodDesc: hexAddress(address),
      name: src.methodSignature(address),
      eeClass: hexAddress(mt.eeClass),
      methodTable: hexAddress(md.methodTable),
      token: hexAddress(md.token),
      module: hexAddress(mt.module),
      modulePath: src.modulePath(mt.module),
      classification: md.classification,
      slot: md.slot,
      isStatic: md.isStatic,
      isJitted: jit === "JIT" || jit === "PreJIT",
      jit,
      codeAddress: hexAddress(md.nativeCode),
      backend: src.backend,
    };
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    return [
      `Method Name:          ${r.name}`,
      `Class:                ${p(r.eeClass)}`,
      `MethodTable:          ${p(r.methodTable)}`,
      `mdToken:              ${p(r.token)}`,
      `Module:               ${p(r.module)}`,
      `IsJitted:             ${r.isJitted ? "yes" : "no"}`,
      `Current CodeAddr:     ${r.codeAddress === "0x0" ? "ffffffffffffffff" : p(r.codeAddress)}`,
    ].join("\n");
  },
});
