// `clrscope ps [--json]`: the .NET processes that expose a diagnostics socket.
import { ExitCode } from "../errors.js";
import { listDotnetProcesses, type DotnetProcess } from "../collect/process-list.js";
import { forEachArg, UsageError } from "./args.js";

export const PS_USAGE = "clrscope ps [--json]";

export interface PsArgs {
  json: boolean;
}

export function parsePsArgs(argv: string[]): PsArgs {
  const out: PsArgs = { json: false };
  forEachArg(argv, (a) => {
    if (a === "--json") out.json = true;
    else throw new UsageError(`ps: unexpected argument ${a} (usage: ${PS_USAGE})`);
  });
  return out;
}

/** dotnet-dump ps's columns plus the runtime version and RID; a process that would not answer gets a second line saying why. */
export function renderPs(rows: DotnetProcess[]): string {
  if (rows.length === 0) return "no .NET processes with a diagnostics socket found";
  const table = rows.map((r) => [String(r.pid), r.name, r.runtimeVersion ?? "?", r.runtimeIdentifier ?? "?", r.commandLine ?? ""]);
  const header = ["PID", "NAME", "RUNTIME", "RID", "COMMAND LINE"];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padStart(widths[0]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [line(header)];
  rows.forEach((r, i) => {
    out.push(line(table[i]!));
    if (r.error) out.push(`${" ".repeat(widths[0]! + 2)}! ${r.error.message}`);
  });
  return out.join("\n");
}

export async function ps(args: PsArgs): Promise<number> {
  const rows = await listDotnetProcesses();
  if (args.json) process.stdout.write(JSON.stringify({ command: "ps", result: { processes: rows } }) + "\n");
  else process.stdout.write(renderPs(rows) + "\n");
  return ExitCode.ok;
}
