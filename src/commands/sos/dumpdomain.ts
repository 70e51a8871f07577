// `dumpdomain [<Domain>]` (SOS, strike.cpp DumpDomain; util.cpp DomainInfo, AssemblyInfo): the
// System Domain, then the one AppDomain of .NET Core with its assemblies and their modules.
// Since .NET 9 both domains allocate from the global LoaderAllocator (SystemDomain's), so their
// heaps are the same; their stage is always OPEN (the DAC reports STAGE_OPEN).
//
// JSON: { domains: DomainBlock[] } where the first block is the System Domain (kind "system")
// and the others are AppDomains (kind "app", id 1). Addresses are "0x..." strings.
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import type { DomainSummary } from "../../runtime/model.js";
import { defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";

export interface DomainAssembly {
  address: string;
  /** Path of the assembly's manifest module ("" for dynamic assemblies). */
  name: string;
  isDynamic: boolean;
  modules: { address: string; name: string }[];
}

export interface DomainBlock {
  kind: "system" | "app";
  address: string;
  /** AppDomain id (DefaultADID); absent for the System Domain. */
  id?: number;
  lowFrequencyHeap: string;
  highFrequencyHeap: string;
  stubHeap: string;
  stage: string;
  /** Friendly name; "" prints as None. */
  name: string;
  assemblies: DomainAssembly[];
}

export interface DumpDomainResult {
  domains: DomainBlock[];
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend?: "contracts" | "dac";
}

const SEPARATOR = "--------------------------------------";

function domainBlock(d: DomainSummary): DomainBlock {
  const out: DomainBlock = {
    kind: d.kind,
    address: hexAddress(d.address),
    lowFrequencyHeap: hexAddress(d.lowFrequencyHeap),
    highFrequencyHeap: hexAddress(d.highFrequencyHeap),
    stubHeap: hexAddress(d.stubHeap),
    stage: d.stage,
    name: d.name,
    assemblies: d.assemblies.map((a) => ({ address: hexAddress(a.address), name: a.name, isDynamic: a.isDynamic, modules: a.modules.map((m) => ({ address: hexAddress(m.address), name: m.name })) })),
  };
  if (d.id !== undefined) out.id = d.id;
  return out;
}

export const dumpDomain = defineCommand<DumpDomainResult>({
  names: ["dumpdomain"],
  summary: "SOS: the System Domain and the AppDomain with their assemblies and modules",
  usage: "dumpdomain [DOMAIN]",
  mayAskDac: () => false,
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length > 1) throw new CommandError("usage: dumpdomain [DOMAIN]", "usage");
    // One data source per session (runtime/type-source.ts).
    const src = session.managed.typeSource();
    let domains = src.domains().map(domainBlock);
    if (a.positional.length === 1) {
      const address = parseNumber(a.positional[0]!);
      domains = domains.filter((d) => parseInt(d.address, 16) === address);
      if (domains.length === 0) throw new CommandError("Fail to fill AppDomain", "not-a-domain");
    }
    return { domains, backend: src.backend };
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    // As SOS: the heaps in upper case, the domain, assembly and module addresses in lower case.
    const P = (h: string) => p(h).toUpperCase();
    const out: string[] = [];
    for (const d of r.domains) {
      out.push(SEPARATOR);
      if (d.kind === "system") out.push(`System Domain:      ${p(d.address)}`);
      else out.push(`Domain ${d.id}:${(d.id ?? 0) >= 10 ? "" : " "}          ${p(d.address)}`);
      out.push(
        `LowFrequencyHeap:   ${P(d.lowFrequencyHeap)}`,
        `HighFrequencyHeap:  ${P(d.highFrequencyHeap)}`,
        `StubHeap:           ${P(d.stubHeap)}`,
        `Stage:              ${d.stage}`,
        `Name:               ${d.name || "None"}`,
      );
      if (d.assemblies.length === 0) continue;
      d.assemblies.forEach((asm, i) => {
        if (i !== 0) out.push("");
        out.push(`Assembly:           ${p(asm.address)}${asm.isDynamic ? " (Dynamic)" : ""} [${asm.name}]`, "  Module");
        for (const m of asm.modules) out.push(`  ${p(m.address)}    ${m.name}`);
      });
      out.push("");
    }
    return out.join("\n");
  },
});
