// `ip2md <code address>` (SOS): the MethodDesc of the managed method holding an address, in
// SOS's DumpMD layout (src/SOS/Strike/strike.cpp IP2MethodDesc, util.cpp DumpMDInfo).
import { CommandError } from "../../errors.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import { hexDigits } from "../../hex.js";

export interface Ip2mdResult {
  address: string;
  methodDesc: string;
  name: string;
  methodTable: string;
  token: string;
  module: string;
  modulePath: string;
  /** JIT'd at run time (false: precompiled ReadyToRun code). */
  isJitted: boolean;
  codeStart: string;
  offset: number;
}

export const ip2md = defineCommand<Ip2mdResult>({
  names: ["ip2md"],
  summary: "SOS: the managed method (MethodDesc) holding a code address",
  usage: "ip2md ADDRESS",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length !== 1) throw new CommandError("usage: ip2md ADDRESS", "usage");
    const address = parseNumber(a.positional[0]!);
    const rt = clrRuntime(session);
    const block = rt.codeBlock(address);
    if (!block) throw new CommandError(`${hexAddress(address)} is not in managed code (no JIT'd or ReadyToRun method holds it)`, "not-managed-code");
    const md = rt.methodDesc(block.methodDesc);
    const mt = rt.methodTable(md.methodTable);
    return {
      address: hexAddress(address),
      methodDesc: hexAddress(block.methodDesc),
      name: session.names!.methodSignature(block.methodDesc),
      methodTable: hexAddress(md.methodTable),
      token: hexAddress(md.token),
      module: hexAddress(mt.module),
      modulePath: rt.module(mt.module).path,
      isJitted: block.kind === "jit",
      codeStart: hexAddress(block.start),
      offset: block.offset,
    };
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    return [
      `MethodDesc:   ${p(r.methodDesc)}`,
      `Method Name:          ${r.name}`,
      `MethodTable:          ${p(r.methodTable)}`,
      `mdToken:              ${p(r.token)}`,
      `Module:               ${p(r.module)}`,
      `IsJitted:             ${r.isJitted ? "yes" : "no"}`,
      `Current CodeAddr:     ${p(r.codeStart)}`,
    ].join("\n");
  },
});
