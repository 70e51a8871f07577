// x86-64 disassembly through iced-x86 (WebAssembly, no native addon). Loaded on first use so
// that opening a dump never pays for the WASM start-up.
import { createRequire } from "node:module";
import { CANCELLATION_CHECK_INTERVAL, throwIfCancelled } from "../cancellation.js";

type Iced = typeof import("iced-x86");
let iced: Iced | undefined;

function load(): Iced {
  iced ??= createRequire(import.meta.url)("iced-x86") as Iced;
  return iced;
}

export interface DecodedInstruction {
  address: number;
  length: number;
  text: string;
  /** Target of a direct call or jump, when it has one. */
  branchTarget?: number;
}

export type AsmSyntax = "att" | "intel";

/** Decode up to `maxCount` instructions from `bytes`, which start at `address`. */
export function disassemble(bytes: Uint8Array, address: number, maxCount: number, syntax: AsmSyntax = "att"): DecodedInstruction[] {
  const x = load();
  const decoder = new x.Decoder(64, bytes, x.DecoderOptions.None);
  decoder.ip = BigInt(address);
  const formatter = new x.Formatter(syntax === "att" ? x.FormatterSyntax.Gas : x.FormatterSyntax.Intel);
  formatter.uppercaseHex = false; // as lldb and gdb print them
  const out: DecodedInstruction[] = [];
  try {
    while (decoder.canDecode && out.length < maxCount) {
      if (out.length % CANCELLATION_CHECK_INTERVAL === 0) throwIfCancelled();
      const ins = decoder.decode();
      const target = ins.nearBranchTarget;
      out.push({
        address: Number(ins.ip),
        length: ins.length,
        text: formatter.format(ins),
        ...(target !== 0n ? { branchTarget: Number(target) } : {}),
      });
      ins.free();
    }
  } finally {
    decoder.free();
    formatter.free();
  }
  return out;
}
