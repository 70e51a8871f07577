// `clrscope ps [-v] [--json]`: the .NET processes that expose a diagnostics socket; with -v,
// also the sockets named for a process that were not used, and why.
import { ExitCode } from "../errors.js";
import { scanDotnetProcesses, type DotnetProcess, type IgnoredProcess } from "../collect/process-list.js";
import { forEachArg, UsageError } from "./args.js";
import { escapeForTerminal, jsonLine } from "./terminal-text.js";

export const PS_USAGE = "clrscope ps [-v] [--json]";

export interface PsArgs {
  json: boolean;
  verbose: boolean;
}

export function parsePsArgs(argv: string[]): PsArgs {
  const out: PsArgs = { json: false, verbose: false };
  forEachArg(argv, (a) => {
    if (a === "--json") out.json = true;
    else if (a === "-v" || a === "--verbose") out.verbose = true;
    else throw new UsageError(`ps: unexpected argument ${a} (usage: ${PS_USAGE})`);
  });
  return out;
}

/**
 * dotnet-dump ps's columns plus the runtime version and RID; a process that would not answer gets
 * a second line saying why. `verbose`: each ignored socket on a line of its own, under its
 * process, and the processes with only ignored sockets after the table. Names, command lines and
 * messages come from the targets: escaped.
 */
export function renderPs(rows: DotnetProcess[], ignored: IgnoredProcess[] = [], verbose = false): string {
  const out: string[] = [];
  if (rows.length === 0) out.push("no .NET processes with a diagnostics socket found");
  else {
    const table = rows.map((r) => [String(r.pid), r.name, r.runtimeVersion ?? "?", r.runtimeIdentifier ?? "?", r.commandLine ?? ""].map(escapeForTerminal));
    const header = ["PID", "NAME", "RUNTIME", "RID", "COMMAND LINE"];
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 0 ? c.padStart(widths[0]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd();
    const indent = " ".repeat(widths[0]! + 2);
    out.push(line(header));
    rows.forEach((r, i) => {
      out.push(line(table[i]!));
      if (r.error) out.push(`${indent}! ${escapeForTerminal(r.error.message)}`);
      if (verbose) for (const s of r.ignoredSockets) out.push(`${indent}ignored ${escapeForTerminal(`${s.path}: ${s.message}`)}`);
    });
  }
  if (verbose && ignored.length > 0) {
    out.push("", "Processes with no usable diagnostics socket:");
    for (const p of ignored) {
      out.push(escapeForTerminal(`${String(p.pid).padStart(7)}  ${p.name}`));
      for (const s of p.ignoredSockets) out.push(`         ignored ${escapeForTerminal(`${s.path}: ${s.message}`)}`);
    }
  }
  return out.join("\n");
}

export async function ps(args: PsArgs): Promise<number> {
  const { processes, ignored } = await scanDotnetProcesses();
  if (args.json) process.stdout.write(jsonLine({ command: "ps", result: { processes, ignored } }));
  else process.stdout.write(renderPs(processes, ignored, args.verbose) + "\n");
  return ExitCode.ok;
}
