// `disassemble [-a ADDR | -s START] [-c COUNT] [-F att|intel]` (lldb): without -s, the function
// containing ADDR (default: the current thread's pc) from its start to its end: an ELF symbol,
// or a managed method's code as the runtime's code map gives it; calls and jumps are annotated
// with their targets' symbols.
import { CANCELLATION_CHECK_INTERVAL, throwIfCancelled } from "../../cancellation.js";
import { CommandError } from "../../errors.js";
import { MAX_DISASSEMBLE_INSTRUCTIONS, MAX_FUNCTION_BYTES } from "../../limits.js";
import { disassemble as decode, type AsmSyntax } from "../../native/disassembler.js";
import { defineCommand, hexAddress, optionalClrRuntime, parseArgs, parseNumber } from "../command.js";
import { describeLocation, locationResult } from "./location.js";

export interface DisassembleResult {
  /** module`symbol of the first instruction, when known. */
  function: string | null;
  pc: string | null;
  instructions: { address: string; offset: number | null; bytes: string; text: string; target: string | null; current: boolean }[];
}

/** When a symbol's size is unknown (or there is no symbol, as for JIT'd code), show this many. */
const DEFAULT_COUNT = 20;

export const disassembleCommand = defineCommand<DisassembleResult>({
  names: ["disassemble", "di"],
  summary: "Disassemble the current function, the function at an address, or COUNT instructions from START",
  usage: "disassemble [-a ADDR | -s START] [-c COUNT] [-F att|intel]",
  run(session, args) {
    const a = parseArgs(args, ["-a", "-s", "-c", "-F"]);
    const p = session.process;
    optionalClrRuntime(session); // managed code is located (and named) by the runtime's code map
    const syntax = (a.values.get("-F") ?? "att") as AsmSyntax;
    if (syntax !== "att" && syntax !== "intel") throw new CommandError(`unknown syntax '${syntax}' (att or intel)`, "usage");
    const thread = p.thread(session.currentThread)!;
    const pc = p.backtrace(thread, 1).frames[0]?.ip;
    const count = a.values.has("-c") ? parseNumber(a.values.get("-c")!, "count") : undefined;
    if (count !== undefined && count > MAX_DISASSEMBLE_INSTRUCTIONS) {
      throw new CommandError(`refusing to disassemble more than ${MAX_DISASSEMBLE_INSTRUCTIONS} instructions at once (-c ${count})`, "usage");
    }
    let start: number;
    let length: number;
    if (a.values.has("-s")) {
      start = parseNumber(a.values.get("-s")!);
      length = (count ?? DEFAULT_COUNT) * 15;
    } else {
      const target = a.values.has("-a") ? parseNumber(a.values.get("-a")!) : pc;
      if (target === undefined) throw new CommandError("no address to disassemble (give -a ADDR)", "usage");
      const bounds = p.functionBounds(target);
      if (bounds && bounds.size <= MAX_FUNCTION_BYTES) {
        start = bounds.start;
        length = bounds.size;
      } else if (a.values.has("-a") && !bounds) {
        // As lldb: an address asked for by the user must lie in a function of known bounds.
        throw new CommandError(`no function with known bounds contains ${hexAddress(target)} (no sized symbol and no managed method): use -s ${hexAddress(target)} -c COUNT to disassemble from it`, "no-function");
      } else {
        start = target;
        length = (count ?? DEFAULT_COUNT) * 15;
      }
    }
    // Read what is there: near the end of a mapping fewer bytes may be available.
    let bytes = p.memory.tryRead(start, length);
    for (let n = length; !bytes && n > 16; ) bytes = p.memory.tryRead(start, (n >>= 1));
    if (!bytes) throw new CommandError(`memory at ${hexAddress(start)} is not in the dump`, "memory-not-in-dump");
    const first = locationResult(p.locate(start));
    const instructions = decode(bytes, start, count ?? MAX_DISASSEMBLE_INSTRUCTIONS, syntax).map((ins, i) => {
      if (i % CANCELLATION_CHECK_INTERVAL === 0) throwIfCancelled();
      return {
        address: hexAddress(ins.address),
        offset: first.symbol !== null && first.offset !== null ? ins.address - start + first.offset : null,
        bytes: Buffer.from(bytes.subarray(ins.address - start, ins.address - start + ins.length)).toString("hex"),
        text: ins.text,
        target: ins.branchTarget !== undefined ? describeLocation(locationResult(p.locate(ins.branchTarget))) : null,
        current: ins.address === pc,
      };
    });
    return { function: first.module ? describeLocation({ ...first, offset: null }) : null, pc: pc !== undefined ? hexAddress(pc) : null, instructions };
  },
  render(r) {
    const lines = r.function ? [`${r.function}:`] : [];
    for (const i of r.instructions) {
      const off = i.offset !== null ? ` <+${i.offset}>` : "";
      const note = i.target && i.target !== "???" ? ` ; ${i.target}` : "";
      lines.push(`${i.current ? "->  " : "    "}${i.address}${off}: ${i.text}${note}`);
    }
    return lines.join("\n");
  },
});
