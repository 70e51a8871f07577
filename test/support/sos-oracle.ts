// SOS itself as an oracle: the pinned `dotnet-dump` (installed once from NuGet into the shared test
// cache, see cache.ts) analyzes a dump, and the tests compare its text with clrscope's, command by
// command. dotnet-dump runs once per dump for a whole list of commands; its answers are cached as
// JSON beside the dump, keyed by the dump and the command list, so the suite pays once.
//
// Why commands go in on stdin and not as `-c CMD` arguments: with `-c`, dotnet-dump prints the
// outputs back to back with nothing between them, and stops at the first command that fails
// (`clrthreads -bogus` swallows every later `-c`). Reading commands from a pipe, it echoes each as
// `> CMD` and ends its output with a `<END_COMMAND_OUTPUT>` (or `<END_COMMAND_ERROR>`) line, and
// goes on after a failure.
//
// Run as a script (`node dist/test/support/sos-oracle.js`), it installs dotnet-dump and prints
// its path: `.ci/run` does that before the tests.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findCommand } from "../../src/commands/registry.js";
import { cachedDir } from "./cache.js";
import { runCliJson } from "./cli.js";
import { dotnetEnv } from "./dotnet-fixtures.js";

/** The dotnet-dump (SOS) version the tests compare with; pinned so that answers do not drift. */
export const DOTNET_DUMP_VERSION = "10.0.750501";
/** Bumped when the way outputs are run or parsed changes, to ignore older cached answers. */
const ORACLE_FORMAT = 1;
const INSTALL_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 300_000;

/** Installs dotnet-dump (once per machine: the cache is shared by every clone) and returns its path. */
export function installDotnetDump(): string {
  const dir = cachedDir("sos-dotnet-dump", [DOTNET_DUMP_VERSION], (out) => {
    const args = ["tool", "install", "dotnet-dump", "--version", DOTNET_DUMP_VERSION, "--tool-path", out];
    const r = spawnSync("dotnet", args, { env: dotnetEnv(), encoding: "utf8", timeout: INSTALL_TIMEOUT_MS, stdio: ["ignore", "pipe", "pipe"] });
    if (r.error || r.status !== 0) {
      throw new Error(`dotnet ${args.join(" ")}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}\n${r.stdout}\n${r.stderr}`);
    }
  });
  const exe = join(dir, "dotnet-dump");
  if (!existsSync(exe)) throw new Error(`dotnet-dump install in ${dir} has no ${exe}`);
  return exe;
}

/** One command's answer: its output lines, and whether SOS reported it as an error or died in it. */
export interface SosAnswer {
  command: string;
  failed: boolean;
  /** Set when dotnet-dump died while running this command (e.g. "SIGSEGV"); `lines` is what it printed first. */
  crashed?: string;
  lines: string[];
}

const END_MARKER = /^(.*)<END_COMMAND_(OUTPUT|ERROR)>$/;

/**
 * Splits dotnet-dump's piped-stdin transcript: a banner ended by a marker line, then for each
 * command `> CMD`, its output, and `<END_COMMAND_OUTPUT>` or `<END_COMMAND_ERROR>`. Returns the
 * commands it finished and the output of the one it was in when the transcript ended (if any).
 * Throws unless the echoed commands are `commands`, in order (a transcript out of step would pair
 * outputs with the wrong commands).
 */
export function parseSosTranscript(stdout: string, commands: string[]): { answers: SosAnswer[]; unfinished?: string[] } {
  const lines = stdout.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let i = lines.findIndex((l) => END_MARKER.test(l));
  if (i < 0) throw new Error(`dotnet-dump printed no command marker:\n${stdout.slice(0, 2000)}`);
  i++;
  const answers: SosAnswer[] = [];
  for (const command of commands) {
    if (i >= lines.length) return { answers };
    if (lines[i] !== `> ${command}`) {
      throw new Error(`dotnet-dump transcript: expected "> ${command}", found ${JSON.stringify(lines[i])}:\n${stdout.slice(0, 4000)}`);
    }
    const output: string[] = [];
    for (i++; ; i++) {
      if (i >= lines.length) return { answers, unfinished: output };
      const m = END_MARKER.exec(lines[i]!);
      if (!m) {
        output.push(lines[i]!);
        continue;
      }
      // Output that does not end with a newline leaves the marker on its last line.
      if (m[1]) output.push(m[1]);
      answers.push({ command, failed: m[2] === "ERROR", lines: output });
      i++;
      break;
    }
  }
  return { answers };
}

/**
 * Runs dotnet-dump on `dump` with `commands` on stdin. When it dies in a command (SOS's pstacks
 * segfaults on some heap dumps), that command's answer says so and the commands after it run in a
 * new dotnet-dump.
 */
function runDotnetDump(dump: string, commands: string[]): SosAnswer[] {
  const answers: SosAnswer[] = [];
  while (answers.length < commands.length) {
    const rest = commands.slice(answers.length);
    const r = spawnSync(installDotnetDump(), ["analyze", dump], {
      env: dotnetEnv(),
      input: [...rest, "exit"].join("\n") + "\n",
      encoding: "utf8",
      timeout: RUN_TIMEOUT_MS,
      maxBuffer: 512 << 20,
    });
    const what = `dotnet-dump analyze ${dump}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}`;
    if (r.error) throw new Error(`${what}\n${r.stderr}`);
    const { answers: done, unfinished } = parseSosTranscript(r.stdout, rest);
    answers.push(...done);
    if (done.length === rest.length) {
      if (r.status !== 0) throw new Error(`${what} after the last command\n${r.stderr.slice(0, 2000)}`);
      break;
    }
    // Died in rest[done.length]: a crash only if it printed that command's echo (else it never got there).
    if (r.status === 0 || unfinished === undefined) throw new Error(`${what}, before "${rest[done.length]}"\n${r.stdout.slice(-2000)}\n${r.stderr.slice(0, 2000)}`);
    answers.push({ command: rest[done.length]!, failed: true, crashed: String(r.signal ?? `exit ${r.status}`), lines: unfinished });
  }
  return answers;
}

function answersCacheFile(dump: string, commands: string[]): string {
  const st = statSync(dump);
  const key = {
    format: ORACLE_FORMAT,
    dotnetDump: DOTNET_DUMP_VERSION,
    dump: basename(dirname(dump)), // the dump's cache key (cachedDir's content hash)
    size: st.size,
    mtimeMs: st.mtimeMs,
    commands,
  };
  const hash = createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 16);
  return join(dirname(dump), `${basename(dump)}.sos-${hash}.json`);
}

/**
 * SOS's answers to `commands` on `dump`, by command line: one `dotnet-dump analyze` run, cached
 * beside the dump. Ask for every command a test file needs in one call: each call with a new list
 * is a new run.
 */
export function sosAnswers(dump: string, commands: string[]): Map<string, SosAnswer> {
  const cacheFile = answersCacheFile(dump, commands);
  let answers: SosAnswer[] | undefined;
  try {
    answers = JSON.parse(readFileSync(cacheFile, "utf8")) as SosAnswer[];
  } catch {
    // not cached yet
  }
  if (!answers) {
    answers = runDotnetDump(dump, commands);
    try {
      // Via rename, so that a parallel reader never sees half a file.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(answers));
      renameSync(tmp, cacheFile);
    } catch {
      // a read-only place: answer without caching
    }
  }
  return new Map(answers.map((a) => [a.command, a]));
}

/**
 * clrscope's text for each of `commands` on `dump`, from ONE `analyze --json` run (`extraArgs`
 * such as `--backend contracts` go before the commands): each result is
 * rendered by its command's own renderer, which is what text mode prints (text mode has no marker
 * between commands to split on). Warnings follow as text mode prints them. Fails on any command error.
 */
export function clrscopeTexts(dump: string, commands: string[], extraArgs: string[] = []): Map<string, string[]> {
  const { docs, status, stderr } = runCliJson(dump, commands, extraArgs);
  if (status !== 0) throw new Error(`clrscope analyze ${dump}: exit ${status}\n${stderr}`);
  const texts = new Map<string, string[]>();
  for (const doc of docs) {
    if (!commands.includes(doc.command)) continue; // e.g. the "open" document
    if (doc.error) throw new Error(`clrscope ${doc.command}: ${doc.error.message}`);
    const text = findCommand(doc.command).command.render(doc.result);
    const warnings = ((doc as { warnings?: string[] }).warnings ?? []).map((w) => `warning: ${w}`);
    texts.set(doc.command, [...(text.length > 0 ? text.split("\n") : []), ...warnings]);
  }
  for (const c of commands) if (!texts.has(c)) throw new Error(`clrscope printed no document for ${c}`);
  return texts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(installDotnetDump());
