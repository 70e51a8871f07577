// `runtime [-v]`: which .NET runtime the dump holds, which backends answer (the data-contract
// descriptor; the runtime's DAC) and what the descriptor publishes (contracts and versions; with
// -v every type layout and global).
import { clrRuntime, dacRuntime, defineCommand, hexPadded, parseArgs } from "./command.js";
import type { RuntimeDescription } from "../runtime/clr-runtime.js";

export interface DacBackendInfo {
  /** Whether the DAC loaded and accepted the dump. */
  active: boolean;
  /** The libmscordaccore.so loaded. */
  path?: string;
  /** Milliseconds from dlopen to a usable ISOSDacInterface. */
  initMs?: number;
  /** Why the DAC backend is not active. */
  error?: string;
}

export type RuntimeInfoResult = RuntimeDescription & { verbose: boolean; dac: DacBackendInfo };

export const runtimeInfo = defineCommand<RuntimeInfoResult>({
  names: ["runtime"],
  summary: "The .NET runtime in the dump and its data contracts (-v: types and globals)",
  usage: "runtime [-v]",
  run(session, args) {
    const verbose = parseArgs(args, [], ["-v"]).switches.has("-v");
    const d = clrRuntime(session).describe();
    const { runtime: dac, error } = dacRuntime(session);
    const dacInfo: DacBackendInfo = dac ? { active: true, path: dac.path, initMs: Math.round(dac.initMs * 10) / 10 } : { active: false, error };
    return verbose ? { ...d, verbose, dac: dacInfo } : { ...d, types: [], globals: [], verbose, dac: dacInfo };
  },
  render(r) {
    const lines = [
      `.NET runtime ${r.version ?? "(version unknown)"}: ${r.libcoreclr}`,
      `Backend: ${r.backend} (data-contract descriptor at ${hexPadded(r.descriptorAddress)})`,
      r.dac.active ? `Backend: dac (${r.dac.path}, ready in ${r.dac.initMs} ms)` : `Backend: dac not active: ${r.dac.error}`,
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
