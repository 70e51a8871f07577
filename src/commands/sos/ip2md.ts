// `ip2md <code address>` (SOS): the MethodDesc of the managed method holding an address, then
// the DumpMD block for it (src/SOS/Strike/strike.cpp IP2MethodDesc).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import { dumpMethodDesc, dumpmd, type DumpmdResult } from "./dumpmd.js";

export interface Ip2mdResult extends DumpmdResult {
  address: string;
  /** Start of the code block (method, funclet or cold part) holding the address. */
  codeStart: string;
  offset: number;
  /** "jit" for code JIT'd at run time, "readytorun" for precompiled code. */
  codeKind: "jit" | "readytorun";
  /** Source file and line of the address (the JIT's IL map and the module's portable PDB); null when unknown. */
  source: { file: string; line: number } | null;
}

export const ip2md = defineCommand<Ip2mdResult>({
  names: ["ip2md"],
  summary: "SOS: the managed method (MethodDesc) holding a code address",
  usage: "ip2md ADDRESS",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length !== 1) throw new CommandError("usage: ip2md ADDRESS", "usage");
    const address = parseNumber(a.positional[0]!);
    const src = session.managed.typeSource();
    const block = src.codeBlock(address);
    if (!block) throw new CommandError(`${hexAddress(address)} is not in managed code (no JIT'd or ReadyToRun method holds it)`, "not-managed-code");
    const md = dumpMethodDesc(session, block.methodDesc, block.start);
    return {
      ...md,
      address: hexAddress(address),
      codeStart: hexAddress(block.start),
      offset: block.offset,
      codeKind: block.kind,
      source: src.sourceLine(address, parseInt(md.module, 16)) ?? null,
    };
  },
  render: (r) =>
    [
      `MethodDesc:   ${hexDigits(parseInt(r.methodDesc, 16), 16)}`,
      dumpmd.render(r),
      ...(r.source ? [`Source file:  ${r.source.file} @ ${r.source.line}`] : []),
    ].join("\n"),
});
