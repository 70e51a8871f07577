// clrscope's command line: `clrscope analyze DUMP ...`, `clrscope ps`, `clrscope collect -p PID ...`.
// bin.ts runs it; tests run it with dump alterations (corruption campaigns) through main().
import { readFileSync } from "node:fs";
import type { DumpAlterations } from "../dump/byte-source.js";
import { requireDirectory, requireRegularFile } from "../dump/regular-file.js";
import { ExitCode } from "../errors.js";
import { MAX_HISTORY_LINES } from "../limits.js";
import { forEachArg, UsageError } from "./args.js";
import { collect, COLLECT_USAGE, parseCollectArgs } from "./collect.js";
import { parsePsArgs, ps, PS_USAGE } from "./ps.js";
import { reportFatal, writeStdout } from "./output.js";
import { runRepl } from "./repl.js";
import { openSession, type SessionOptions } from "./session.js";

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
  --backend B      where the managed commands read the runtime: auto (default: the data-contract
                   descriptor where it has what they need, else the DAC), contracts (the DAC is
                   never started), or dac (the DAC first)
  --debug          show stack traces for internal errors

  ps               list the .NET processes with a diagnostics socket: pid, name, runtime, RID, command line
  -v               also the sockets named for a process that were not used, and why (another
                   owner, a symlink, not the runtime's name, stale)
  collect          have a live .NET process's runtime write a core dump of it (as dotnet-dump collect)
  -p PID, -n NAME  the process, by pid or by name (its /proc comm or its entry assembly)
  --type TYPE      full (default), heap, mini or triage
  -o PATH          where the dump goes (default ./core_YYYYMMDD_HHMMSS); must not exist
  --overwrite      replace PATH if it is a regular file (a symlink is never followed)
  --diag           the runtime's dump writer logs to the target's console
  --crashreport    also write PATH.crashreport.json
  --timeout SECS   give up waiting for the runtime after SECS in all (1-86400, default 3600)
  --stall-timeout SECS  give up when the runtime has not answered and the dump has not grown
                   for SECS (1-86400, default 30)
  Ctrl-C           stops waiting (exit 130); the runtime may still be writing the dump

exit codes: 0 ok, 1 a command failed, 2 usage (also: collect's -o exists or is a symlink),
            3 cannot read file, 4 not a supported dump, 5 corrupt dump, 6 cannot reach the
            process (not running, not .NET, no usable socket, no permission), 7 the runtime
            failed to write the dump, gave no answer or sign of progress, or its result failed
            the checks, 70 internal error, 74 cannot write the output (disk full, I/O error; a
            closed pipe, as in | head, ends quietly with 0), 130 collect interrupted by Ctrl-C

  In the interactive prompt Ctrl-C stops the running command (or clears the line) and Ctrl-D
  or exit ends the session. Typed commands are kept in ~/.clrscope_history (mode 0600, the
  last ${MAX_HISTORY_LINES}).`;

interface AnalyzeArgs extends SessionOptions {
  commands: string[];
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
  // Files the user names must be regular files: a FIFO would hang the open, a device read as junk.
  if (args.exe !== undefined) requireRegularFile(args.exe, "an executable (--exe)");
  if (args.dac !== undefined) requireRegularFile(args.dac, "a shared library (--dac)");
  for (const d of args.symbolDirs) requireDirectory(d, "--symbols");
  const { commands, ...sessionOptions } = args;
  sessionOptions.alterations = options.alterations;
  // Interactive: a failed command was already reported; exit 0 as lldb does.
  if (commands.length === 0) return await runRepl(sessionOptions);
  const session = openSession(sessionOptions, undefined, commands);
  try {
    for (const c of commands) session.execute(c);
  } finally {
    session.close();
  }
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
        writeStdout(`clrscope ${version()}\n`);
        return ExitCode.ok;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        writeStdout(USAGE + "\n");
        return sub === undefined ? ExitCode.usage : ExitCode.ok;
      default:
        throw new UsageError(`unknown command '${sub}' (clrscope --help lists them)`);
    }
  } catch (e) {
    return reportFatal(e, debug);
  }
}
