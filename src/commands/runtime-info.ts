// `runtime [-v]`: which .NET runtime the dump holds and what its data-contract descriptor
// publishes (contracts and versions; with -v every type layout and global).
import { clrRuntime, defineCommand, hexPadded, parseArgs } from "./command.js";
import type { RuntimeDescription } from "../runtime/clr-runtime.js";

export type RuntimeInfoResult = RuntimeDescription & { verbose: boolean };

export const runtimeInfo = defineCommand<RuntimeInfoResult>({
  names: ["runtime"],
  summary: "The .NET runtime in the dump and its data contracts (-v: types and globals)",
  usage: "runtime [-v]",
  run(session, args) {
    const verbose = parseArgs(args, [], ["-v"]).switches.has("-v");
    const d = clrRuntime(session).describe();
    return verbose ? { ...d, verbose } : { ...d, types: [], globals: [], verbose };
  },
  render(r) {
    const lines = [
      `.NET runtime ${r.version ?? "(version unknown)"}: ${r.libcoreclr}`,
      `Backend: ${r.backend} (data-contract descriptor at ${hexPadded(r.descriptorAddress)})`,
      `Contracts: ${r.contracts.map((c) => `${c.name} ${c.version}`).join(", ")}`,
    ];
    if (!r.verbose) return lines.join("\n");
    lines.push("", "Types:");
    for (const t of r.types) {
      lines.push(`  ${t.name}${t.size !== undefined ? ` (size ${t.size})` : ""}`);
      for (const f of t.fields) lines.push(`    +0x${f.offset.toString(16).padStart(3, "0")} ${f.name}${f.type ? ` : ${f.type}` : ""}`);
    }
    lines.push("", "Globals:");
    for (const g of r.globals) lines.push(`  ${g.name} = ${g.string ?? g.value}${g.type ? ` : ${g.type}` : ""}${g.indirect ? " (address)" : ""}`);
    return lines.join("\n");
  },
});
