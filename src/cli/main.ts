// clrscope's command line: `clrscope analyze DUMP ...`, `clrscope ps`, `clrscope collect -p PID ...`.
// bin.ts runs it; tests run it with dump alterations (corruption campaigns) through main().
import { readFileSync } from "node:fs";
import type { DumpAlterations } from "../dump/byte-source.js";
import { ClrscopeError, ExitCode } from "../errors.js";
import { openCoreDump } from "../native/process.js";
import { status } from "../commands/native/status.js";
import { forEachArg, UsageError } from "./args.js";
import { collect, COLLECT_USAGE, parseCollectArgs } from "./collect.js";
import { parsePsArgs, ps, PS_USAGE } from "./ps.js";
import { describeInternalError, writeResult, type OutputMode } from "./output.js";
import { runRepl } from "./repl.js";
import { escapeForTerminal } from "./terminal-text.js";
import { AnalyzeSession } from "./session.js";
import { withWarnings } from "../warnings.js";

const USAGE = `usage: clrscope analyze DUMP [-c COMMAND]... [--json] [--exe PATH] [--symbols DIR]... [--dac PATH] [--backend auto|contracts|dac] [--debug]
       ${PS_USAGE}
       ${COLLECT_USAGE}

  analyze DUMP     open a Linux core dump (createdump, gcore or kernel core) and run commands:
                   interactively, or the -c ones in order and exit
  -c COMMAND       run COMMAND (repeatable), e.g. -c "thread list" -c "bt all"
  --json           one JSON document per command on stdout: {"command":..., "result":...}
  --exe PATH       the program's executable, if not at its recorded path
  --symbols DIR    extra directory with debug files or copies of the process's libraries
  --dac PATH       the runtime's DAC (libmscordaccore.so) to use, if not beside libcoreclr.so
  --backend B      where dumpmt, dumpmd, name2ee, ip2md, modules, dumpdomain, dumpmodule and pe
                   read the runtime: auto (default: the data-contract descriptor when it has what
                   they need, else the DAC), contracts, or dac
  --debug          show stack traces for internal errors

  ps               list the .NET processes with a diagnostics socket: pid, name, runtime, RID, command line
  collect          have a live .NET process's runtime write a core dump of it (as dotnet-dump collect)
  -p PID, -n NAME  the process, by pid or by name (its /proc comm or its entry assembly)
  --type TYPE      full (default), heap, mini or triage
  -o PATH          where the dump goes (default ./core_YYYYMMDD_HHMMSS)
  --diag           the runtime's dump writer logs to the target's console
  --crashreport    also write PATH.crashreport.json
  --timeout SECS   give up waiting for the runtime after SECS (default 600)

exit codes: 0 ok, 1 a command failed, 2 usage, 3 cannot read file, 4 not a supported dump,
            5 corrupt dump, 6 cannot reach the process (not running, not .NET, no permission),
            7 the runtime failed to write the dump, 70 internal error`;

interface AnalyzeArgs {
  dump: string;
  commands: string[];
  mode: OutputMode;
  exe?: string;
  symbolDirs: string[];
  dac?: string;
  backend?: "auto" | "contracts" | "dac";
  debug: boolean;
}

function parseAnalyzeArgs(argv: string[]): AnalyzeArgs {
  const out: AnalyzeArgs = { dump: "", commands: [], mode: "text", symbolDirs: [], debug: false };
  forEachArg(argv, (a, value) => {
    if (a === "-c" || a === "--command") out.commands.push(value());
    else if (a === "--json") out.mode = "json";
    else if (a === "--exe") out.exe = value();
    else if (a === "--symbols") out.symbolDirs.push(value());
    else if (a === "--dac") out.dac = value();
    else if (a === "--backend") {
      const b = value();
      if (b !== "auto" && b !== "contracts" && b !== "dac") throw new UsageError(`--backend ${b}: use auto, contracts or dac`);
      out.backend = b;
    } else if (a === "--debug") out.debug = true;
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (out.dump === "") out.dump = a;
    else throw new UsageError(`unexpected argument ${a} (one dump at a time)`);
  });
  if (out.dump === "") throw new UsageError("analyze needs a dump file");
  return out;
}

/** What a caller of main() other than the bin may add: tests read the dump through alterations. */
export interface MainOptions {
  alterations?: DumpAlterations;
}

async function analyze(args: AnalyzeArgs, options: MainOptions): Promise<number> {
  const process_ = openCoreDump(args.dump, { exe: args.exe, symbolDirs: args.symbolDirs, alterations: options.alterations });
  for (const w of process_.core.warnings) process.stderr.write(escapeForTerminal(`clrscope: warning: ${w}\n`));
  const session = new AnalyzeSession(process_, args.mode, args.debug, args.dac);
  session.state.backend = args.backend;
  const openWarnings: string[] = [];
  writeResult(args.mode, "open", status, withWarnings(openWarnings, () => status.run(session.state, [])), openWarnings);
  if (args.commands.length === 0) {
    await runRepl(session); // interactive: a failed command was already reported; exit 0 as lldb does
    process_.close();
    return ExitCode.ok;
  }
  for (const c of args.commands) session.execute(c);
  process_.close();
  return session.failures > 0 ? ExitCode.commandFailed : ExitCode.ok;
}

/** Our package.json: next to dist/ (bundled bin) or three levels up (dist/src/cli/main.js). */
function version(): string {
  for (const rel of ["../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version: string };
      if (pkg.name === "clrscope") return pkg.version;
    } catch {
      // try the next place
    }
  }
  return "unknown";
}

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "analyze":
        return await analyze(parseAnalyzeArgs(rest), options);
      case "ps":
        return await ps(parsePsArgs(rest));
      case "collect":
        return await collect(parseCollectArgs(rest));
      case "--version":
      case "-V":
        process.stdout.write(`clrscope ${version()}\n`);
        return ExitCode.ok;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return sub === undefined ? ExitCode.usage : ExitCode.ok;
      default:
        throw new UsageError(`unknown command '${sub}' (clrscope --help lists them)`);
    }
  } catch (e) {
    if (e instanceof ClrscopeError) {
      process.stderr.write(escapeForTerminal(`clrscope: ${e.message}\n`));
      return e.exitCode;
    }
    process.stderr.write(escapeForTerminal(`clrscope: ${describeInternalError(e, debug)}\n`));
    return ExitCode.internal;
  }
}
