// `dumpmd <MethodDesc>` (SOS DumpMD, util.cpp DumpMDInfoFromMethodDescData): a MethodDesc's name,
// EEClass, MethodTable, token, module and current native code.
import { ClrscopeError, CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import { safeJitKind, type JitKind } from "./dumpmt.js";

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
  /** MethodDesc classification: IL, FCall, PInvoke, EEImpl, Array, Instantiated, ComInterop, Dynamic. */
  classification: string;
  slot: number;
  isStatic: boolean;
  /** The method has native code (JIT'd or ReadyToRun). */
  isJitted: boolean;
  jit: JitKind;
  /** Native code address ("0x0" when none). */
  codeAddress: string;
}

export const dumpmd = defineCommand<DumpmdResult>({
  names: ["dumpmd"],
  summary: "SOS: a MethodDesc's method, type, token, module and code",
  usage: "dumpmd METHODDESC",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length !== 1) throw new CommandError("usage: dumpmd METHODDESC", "usage");
    const address = parseNumber(a.positional[0]!);
    const rt = clrRuntime(session);
    const ts = rt.typeSystemDetails();
    let md, mt;
    try {
      md = ts.methodDescDetails(address);
      mt = ts.methodTableDetails(md.methodTable);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      throw new CommandError(`${hexAddress(address)} is not a MethodDesc`, "not-a-methoddesc");
    }
    if (mt.eeClass === 0 || mt.module === 0) throw new CommandError(`${hexAddress(address)} is not a MethodDesc`, "not-a-methoddesc");
    const jit = safeJitKind(session, rt, md.nativeCode, mt.module);
    return {
      methodDesc: hexAddress(address),
      name: session.names!.methodSignature(address),
      eeClass: hexAddress(mt.eeClass),
      methodTable: hexAddress(md.methodTable),
      token: hexAddress(md.token),
      module: hexAddress(mt.module),
      modulePath: rt.module(mt.module).path,
      classification: md.classification,
      slot: md.slot,
      isStatic: md.isStatic,
      isJitted: jit === "JIT" || jit === "PreJIT",
      jit,
      codeAddress: hexAddress(md.nativeCode),
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
