// `image lookup -a ADDR` (lldb): which module, symbol and memory region an address is in, and
// whether its bytes come from the dump or from the file on disk.
import { CommandError } from "../../errors.js";
import { defineCommand, hexAddress, hexPadded, optionalClrRuntime, parseArgs, parseNumber } from "../command.js";
import { describeLocation, locationResult, type LocationResult } from "./location.js";

export interface ImageLookupResult extends LocationResult {
  address: string;
  /** Offset from the module's load address. */
  moduleOffset: number | null;
  path: string | null;
  memory: "dump" | "file" | "missing";
}

export const imageLookup = defineCommand<ImageLookupResult>({
  names: ["image lookup"],
  summary: "Find the module and symbol containing an address",
  usage: "image lookup -a ADDR",
  run(session, args) {
    const a = parseArgs(args, ["-a"]);
    const text = a.values.get("-a") ?? a.positional[0];
    if (text === undefined) throw new CommandError("usage: image lookup -a ADDR", "usage");
    const address = parseNumber(text);
    const p = session.process;
    optionalClrRuntime(session); // names managed code too
    const loc = p.locate(address);
    return {
      address: hexAddress(address), ...locationResult(loc),
      moduleOffset: loc.module && "base" in loc.module ? address - loc.module.base : null, path: loc.module?.path ?? null,
      memory: p.memory.origin(address),
    };
  },
  render(r) {
    if (r.module === null) return `      Address: ${r.address} is not in any module (memory: ${r.memory})`;
    return [
      r.moduleOffset === null ? `      Address: ${r.address} (managed code in ${r.module})` : `      Address: ${r.module}[${hexPadded(r.moduleOffset)}] (${r.path})`,
      `      Summary: ${describeLocation(r)}`,
      `       Memory: ${r.memory === "dump" ? "in the dump" : r.memory === "file" ? "from the file on disk" : "not available"}`,
    ].join("\n");
  },
});
