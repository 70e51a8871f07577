// `runtime [-v]`: which .NET runtime the dump holds, which backends answer (the data-contract
// descriptor; the runtime's DAC) and what the descriptor publishes (contracts and versions; with
// -v every type layout and global).
import { ClrscopeError } from "../errors.js";
import { defineCommand, hexAddress, hexPadded, parseArgs, type Session } from "./command.js";
import type { RuntimeDescription } from "../runtime/clr-runtime.js";
import type { DacBackendInfo } from "../runtime/model.js";
import { runtimeProductVersion } from "../runtime/product-version.js";

export type { DacBackendInfo };

export type RuntimeInfoResult = Omit<RuntimeDescription, "backend" | "descriptorAddress"> & {
  /** "0x..." (JSON addresses are strings); null when no descriptor answers. */
  descriptorAddress: string | null;
  /** "dac" when the runtime publishes no data-contract descriptor (.NET 8 and older) and only the DAC answers. */
  backend: "contracts" | "dac";
  verbose: boolean;
  dac: DacBackendInfo;
  /** `analyze --backend` when given (auto otherwise). */
  requestedBackend: "auto" | "contracts" | "dac";
  /** Which backend the type and loader commands (dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule) use, and why not the contracts. */
  typeCommands: { backend: "contracts" | "dac"; reason?: string } | { error: string };
};

function typeCommandsBackend(session: Session): RuntimeInfoResult["typeCommands"] {
  try {
    const src = session.managed.typeSource();
    return src.reason ? { backend: src.backend, reason: src.reason } : { backend: src.backend };
  } catch (e) {
    if (e instanceof ClrscopeError) return { error: e.message };
    throw e;
  }
}

export const runtimeInfo = defineCommand<RuntimeInfoResult>({
  names: ["runtime"],
  summary: "The .NET runtime in the dump, its backends (data contracts, DAC) and contracts (-v: types and globals)",
  usage: "runtime [-v]",
  run(session, args) {
    const verbose = parseArgs(args, [], ["-v"]).switches.has("-v");
    const described = session.managed.describeContracts();
    const common = { verbose, dac: session.managed.dacInfo(), requestedBackend: session.managed.choice, typeCommands: typeCommandsBackend(session) } as const;
    if (!described) {
      const rt = session.process.runtime!;
      return { backend: "dac", version: runtimeProductVersion(session.process), libcoreclr: rt.path, descriptorAddress: null, contracts: [], types: [], globals: [], ...common };
    }
    const d = { ...described, descriptorAddress: hexAddress(described.descriptorAddress) };
    return verbose ? { ...d, ...common } : { ...d, types: [], globals: [], ...common };
  },
  render(r) {
    const lines = [
      `.NET runtime ${r.version ?? "(version unknown)"}: ${r.libcoreclr}`,
      r.backend === "contracts"
        ? `Backend: contracts (data-contract descriptor at ${hexPadded(parseInt(r.descriptorAddress ?? "0", 16))})`
        : r.requestedBackend === "dac"
          ? "Backend: contracts not used (--backend dac)"
          : "Backend: contracts not active: this runtime publishes no data-contract descriptor",
      r.dac.active ? `Backend: dac (${r.dac.path}, ${r.dac.source}, build ${r.dac.version ?? "unknown"}, ready in ${r.dac.initMs} ms, in a host process)` : `Backend: dac not active: ${r.dac.error}`,
      "error" in r.typeCommands
        ? `Type commands (dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule): no backend: ${r.typeCommands.error}`
        : `Type commands (dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule): ${r.typeCommands.backend}${r.typeCommands.reason ? ` (${r.typeCommands.reason})` : ""}`,
    ];
    if (r.backend === "contracts") lines.push(`Contracts: ${r.contracts.map((c) => `${c.name} ${c.version}`).join(", ")}`);
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
