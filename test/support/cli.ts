// Running the built CLI (dist/src/cli/bin.js) from integration tests: raw runs (stdout, stderr,
// exit status) and `analyze --json` runs, whose stdout is JSON Lines, one document per command.
// Plus the shapes of the frame and thread results those documents hold.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cache.js";

/** The CLI as tsc builds it. */
export const cliPath = join(repoRoot, "dist", "src", "cli", "bin.js");

export interface CliRunOptions {
  /** The script to run instead of cliPath (e.g. the bundled bin). */
  script?: string;
  /** Written to the CLI's stdin (else stdin is empty). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the CLI is killed (default 120 s). */
  timeout?: number;
  killSignal?: NodeJS.Signals;
  /** Working directory (default: the test's). */
  cwd?: string;
  /** Run as this user (when the test runs as root). */
  uid?: number;
  gid?: number;
}

export interface CliRun {
  stdout: string;
  stderr: string;
  /** Exit code; null when a signal (e.g. the timeout's) killed the CLI. */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the CLI could not be run or was killed by the timeout; runCli does not throw it. */
  error?: Error;
}

/** Runs `node <cli> ...args` to completion (fails at once if the CLI is not built). */
export function runCli(args: string[], opts: CliRunOptions = {}): CliRun {
  const { script = cliPath, timeout = 120_000, ...spawnOptions } = opts;
  assert.ok(existsSync(script), `${script} is missing: run \`npm run build\``);
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
    timeout,
    ...spawnOptions,
  });
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: r.status, signal: r.signal, error: r.error };
}

/** The CLI over a dump read with alterations (test/support/altered-cli.ts). */
export const alteredCliPath = join(repoRoot, "dist", "test", "support", "altered-cli.js");

/** `altered-cli ALTERATIONS.json ...args`: the CLI on a damaged view of a dump (see dump-patches.ts). */
export function runAlteredCli(alterations: string, args: string[], opts: Omit<CliRunOptions, "script"> = {}): CliRun {
  return runCli([alterations, ...args], { timeout: 300_000, ...opts, script: alteredCliPath });
}

/** One line of `analyze --json` output: a command's result or its error. */
export interface CliDoc<R = any> {
  command: string;
  result?: R;
  error?: { code: string; message: string };
}

/**
 * `analyze CORE ...extraArgs --json -c C1 -c C2 ...`: the JSON documents it printed (every
 * non-empty stdout line must be one), its exit status and stderr. Throws if the CLI could not be
 * run or timed out.
 */
export function runCliJson(core: string, commands: string[], extraArgs: string[] = []): { docs: CliDoc[]; status: number | null; stderr: string; stdout: string } {
  const r = runCli(["analyze", core, ...extraArgs, "--json", ...commands.flatMap((c) => ["-c", c])]);
  if (r.error) throw r.error;
  const docs = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CliDoc);
  return { docs, status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A frame of `bt` / `bt all` (src/commands/native/location.ts FrameResult). */
export interface CliFrame {
  index: number;
  ip: string;
  sp: string;
  module: string | null;
  symbol: string | null;
  offset: number | null;
  trust: "context" | "cfi" | "frame_pointer" | "scan" | "signal";
}

/** A thread of `bt` / `bt all`. */
export interface CliThread {
  index: number;
  tid: number;
  current: boolean;
  stop: "root" | "invalid-ip" | "no-progress" | "loop" | "unreadable" | "frame-limit";
  frames: CliFrame[];
}

/** The result of `command` among `analyze --json` documents; fails the test if it is missing or an error. */
export function resultOf<R = any>(docs: CliDoc[], command: string): R {
  const d = docs.find((x) => x.command === command);
  assert.ok(d, `no document for ${command}`);
  assert.equal(d.error, undefined, `${command}: ${JSON.stringify(d.error)}`);
  return d.result as R;
}
