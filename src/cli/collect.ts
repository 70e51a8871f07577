// `clrscope collect -p PID | -n NAME [--type full|heap|mini|triage] [-o PATH] [--overwrite]
// [--diag] [--crashreport] [--timeout SECS] [--stall-timeout SECS] [--json]`: as `dotnet-dump
// collect`, over the diagnostics IPC protocol. Progress (elapsed time, bytes written) goes to
// stderr, and only when it is a TTY. SIGINT ends the wait with one line and exit 130.
import * as path from "node:path";
import { ExitCode } from "../errors.js";
import { collectDump, resolveProcessName, type CollectResult } from "../collect/collect-dump.js";
import { DUMP_TYPES, type DumpTypeName } from "../collect/ipc-protocol.js";
import { forEachArg, UsageError } from "./args.js";
import { escapeForTerminal, jsonLine } from "./terminal-text.js";
import { MAX_COLLECT_WAIT_SECS } from "../limits.js";

export const COLLECT_USAGE = "clrscope collect -p PID | -n NAME [--type full|heap|mini|triage] [-o PATH] [--overwrite] [--diag] [--crashreport] [--timeout SECS] [--stall-timeout SECS] [--json]";


export interface CollectArgs {
  pid?: number;
  name?: string;
  type: DumpTypeName;
  output?: string;
  diag: boolean;
  crashReport: boolean;
  overwrite: boolean;
  timeoutMs?: number;
  stallTimeoutMs?: number;
  json: boolean;
}

/** A decimal number of seconds within 1..MAX_COLLECT_WAIT_SECS, as ms; else a usage error. */
function seconds(option: string, v: string): number {
  const secs = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!(secs >= 1 && secs <= MAX_COLLECT_WAIT_SECS)) throw new UsageError(`collect: ${option} needs a number of seconds from 1 to ${MAX_COLLECT_WAIT_SECS}, not ${v}`);
  return Math.round(secs * 1000);
}

export function parseCollectArgs(argv: string[]): CollectArgs {
  const out: CollectArgs = { type: "full", diag: false, crashReport: false, overwrite: false, json: false };
  forEachArg(argv, (a, value) => {
    if (a === "-p" || a === "--process-id") {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) <= 0 || !Number.isSafeInteger(Number(v))) throw new UsageError(`collect: ${a} needs a process id, not ${v}`);
      out.pid = Number(v);
    } else if (a === "-n" || a === "--name") out.name = value();
    else if (a === "--type") {
      const v = value().toLowerCase();
      if (!(v in DUMP_TYPES)) throw new UsageError(`collect: --type must be full, heap, mini or triage, not ${v}`);
      out.type = v as DumpTypeName;
    } else if (a === "-o" || a === "--output") {
      out.output = value();
      if (out.output === "") throw new UsageError(`collect: ${a} needs a file path, not an empty string`);
    } else if (a === "--overwrite") out.overwrite = true;
    else if (a === "--diag") out.diag = true;
    else if (a === "--crashreport") out.crashReport = true;
    else if (a === "--timeout") out.timeoutMs = seconds(a, value());
    else if (a === "--stall-timeout") out.stallTimeoutMs = seconds(a, value());
    else if (a === "--json") out.json = true;
    else throw new UsageError(`collect: unexpected argument ${a} (usage: ${COLLECT_USAGE})`);
  });
  if ((out.pid === undefined) === (out.name === undefined)) throw new UsageError(`collect: give the process with either -p PID or -n NAME (usage: ${COLLECT_USAGE})`);
  return out;
}

/** dotnet-dump's default name: core_YYYYMMDD_HHMMSS in the current directory. */
function defaultOutput(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `core_${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

const TYPE_WORDS: Record<DumpTypeName, string> = { full: "full dump", heap: "dump with heap", mini: "mini dump", triage: "triage dump" };

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** The process name comes from the target: escaped, as the paths (which may hold anything). */
export function renderCollect(r: CollectResult): string {
  return escapeForTerminal(
    `Wrote ${TYPE_WORDS[r.type]} of process ${r.pid} (${r.name}) to ${r.path}: ${formatBytes(r.bytes)}, ${r.threads} threads, ${(r.elapsedMs / 1000).toFixed(1)} s` +
      (r.crashReport ? `\nCrash report: ${r.crashReport}` : ""),
  );
}

export async function collect(args: CollectArgs): Promise<number> {
  const pid = args.pid ?? (await resolveProcessName(args.name!));
  const output = path.resolve(args.output ?? defaultOutput());
  const tty = process.stderr.isTTY === true;
  if (tty) process.stderr.write(escapeForTerminal(`Writing ${TYPE_WORDS[args.type]} of process ${pid} to ${output}`) + "\n");
  const progress = tty
    ? (p: { elapsedMs: number; bytes: number }) => process.stderr.write(`\r  ${(p.elapsedMs / 1000).toFixed(1)} s, ${formatBytes(p.bytes)} written\x1b[K`)
    : undefined;
  // Ctrl-C ends our wait (collectDump then says where the runtime may still be writing), not the process.
  const interrupt = new AbortController();
  const onSigint = (): void => interrupt.abort();
  process.on("SIGINT", onSigint);
  let result: CollectResult;
  try {
    result = await collectDump(pid, {
      type: args.type,
      output,
      overwrite: args.overwrite,
      diag: args.diag,
      crashReport: args.crashReport,
      timeoutMs: args.timeoutMs,
      stallTimeoutMs: args.stallTimeoutMs,
      onProgress: progress,
      signal: interrupt.signal,
    });
  } finally {
    process.off("SIGINT", onSigint);
    if (tty) process.stderr.write("\r\x1b[K");
  }
  if (args.json) process.stdout.write(jsonLine({ command: "collect", result }));
  else process.stdout.write(renderCollect(result) + "\n");
  return ExitCode.ok;
}
