// `collect`: ask a live .NET process's runtime to write a core dump of itself (GenerateCoreDump3,
// falling back to 2 and 1 as DiagnosticsClient.WriteDump does), watch the file grow while the
// runtime's createdump writes it, then check that it opens as a core of that process.
import * as fs from "node:fs";
import * as path from "node:path";
import { ClrscopeError, DiagnosticsIpcError, ProcessAccessError, rethrowIfBug } from "../errors.js";
import { openCoreDump } from "../native/process.js";
import { exchange, type ExchangeOptions } from "./diagnostics-client.js";
import { findDiagnosticsSocket, permissionAdvice, type DiscoveryOptions } from "./discovery.js";
import { decodeServerReply, DumpCommand, DumpFlags, encodeDumpRequest, HRESULT_UNKNOWN_COMMAND, runtimeError, type DumpTypeName } from "./ipc-protocol.js";
import { listDotnetProcesses } from "./process-list.js";

/** A full dump of a big process takes a while; the runtime answers only when it is written. */
export const DUMP_TIMEOUT_MS = 10 * 60_000;

export interface CollectOptions extends DiscoveryOptions {
  type?: DumpTypeName;
  /** Where the dump goes (made absolute against our cwd: the target's cwd may differ). */
  output: string;
  /** Ask createdump to log to the target's console (LoggingEnabled). */
  diag?: boolean;
  /** Ask createdump for a crash report next to the dump (<dump>.crashreport.json). */
  crashReport?: boolean;
  /** Bound on the runtime's reply (default 10 min). */
  timeoutMs?: number;
  /** Called about every progressIntervalMs while the runtime writes: elapsed ms and the file's size so far. */
  onProgress?: (p: { elapsedMs: number; bytes: number }) => void;
  progressIntervalMs?: number;
}

export interface CollectResult {
  pid: number;
  name: string;
  type: DumpTypeName;
  /** Absolute path of the dump, as the target sees it. */
  path: string;
  /** Where we read it (differs for a target in another mount namespace: through /proc/PID/root). */
  localPath: string;
  bytes: number;
  /** Threads in the dump, and in /proc/PID/task just before the request. */
  threads: number;
  liveThreads: number;
  /** Which command the runtime accepted: 3, 2 or 1. */
  command: 1 | 2 | 3;
  elapsedMs: number;
  crashReport: string | null;
}

function countLiveThreads(pid: number, procRoot: string): number {
  try {
    return fs.readdirSync(path.join(procRoot, String(pid), "task")).length;
  } catch {
    return 0;
  }
}

/** The pid of the one .NET process named `name` (its /proc comm, its entry assembly, or its program's file name). */
export async function resolveProcessName(name: string, options: DiscoveryOptions = {}): Promise<number> {
  const rows = await listDotnetProcesses(options);
  // `dotnet app.dll`: comm is "dotnet", the app's name is its entry assembly.
  const matches = rows.filter((r) => r.name === name || r.entryAssembly === name);
  if (matches.length === 0) throw new ProcessAccessError("no-such-process", `no .NET process named ${name} (clrscope ps lists them)`);
  if (matches.length > 1) throw new ProcessAccessError("no-such-process", `${matches.length} .NET processes named ${name} (pids ${matches.map((m) => m.pid).join(", ")}): choose one with -p`);
  return matches[0]!.pid;
}

/** Sends the dump command, newest first; returns which one the runtime accepted. */
async function requestDump(socketPath: string, dumpPath: string, type: DumpTypeName, flags: number, exchangeOptions: ExchangeOptions & { target: string }): Promise<1 | 2 | 3> {
  const target = exchangeOptions.target;
  const send = async (commandId: number) => decodeServerReply(await exchange(socketPath, encodeDumpRequest(commandId, dumpPath, type, flags), exchangeOptions), commandId === DumpCommand.generateCoreDump3);
  let reply = await send(DumpCommand.generateCoreDump3);
  if (reply.ok) return 3;
  if (reply.hresult !== HRESULT_UNKNOWN_COMMAND) throw runtimeError(`writing the dump of ${target}`, reply);
  reply = await send(DumpCommand.generateCoreDump2);
  if (reply.ok) return 2;
  if (reply.hresult !== HRESULT_UNKNOWN_COMMAND) throw runtimeError(`writing the dump of ${target}`, reply);
  if ((flags & ~DumpFlags.loggingEnabled) !== 0) {
    throw new DiagnosticsIpcError("unsupported-by-runtime", `${target}'s runtime is older than .NET 6 and cannot write a crash report: leave out --crashreport`);
  }
  reply = await send(DumpCommand.generateCoreDump);
  if (reply.ok) return 1;
  throw runtimeError(`writing the dump of ${target}`, reply);
}

/**
 * Has the runtime of process `pid` write a dump to `options.output`, then opens it and checks
 * that it is a core of that process with threads. Throws ProcessAccessError (cannot reach the
 * process), RuntimeReportedError (the runtime's HRESULT and message) or DiagnosticsIpcError.
 */
export async function collectDump(pid: number, options: CollectOptions): Promise<CollectResult> {
  const type = options.type ?? "full";
  const procRoot = options.procRoot ?? "/proc";
  const location = findDiagnosticsSocket(pid, options);
  const dumpPath = path.resolve(options.output);
  // The target writes the file: in another mount namespace its "/" is our /proc/PID/root.
  const localPath = location.namespaced ? path.join(location.rootPrefix, dumpPath) : dumpPath;
  const target = `process ${pid} (${location.facts.name})`;
  const flags = (options.diag ? DumpFlags.loggingEnabled : 0) | (options.crashReport ? DumpFlags.crashReportEnabled : 0);
  const liveThreads = countLiveThreads(pid, procRoot);
  const started = Date.now();

  let progressTimer: NodeJS.Timeout | undefined;
  if (options.onProgress) {
    const report = options.onProgress;
    progressTimer = setInterval(() => {
      let bytes = 0;
      try {
        bytes = fs.statSync(localPath).size;
      } catch {
        // not created yet
      }
      report({ elapsedMs: Date.now() - started, bytes });
    }, options.progressIntervalMs ?? 250);
  }
  let command: 1 | 2 | 3;
  try {
    command = await requestDump(location.socketPath, dumpPath, type, flags, {
      timeoutMs: options.timeoutMs ?? DUMP_TIMEOUT_MS,
      target,
      permissionAdvice: permissionAdvice(location.facts, location.namespaced),
    });
  } finally {
    clearInterval(progressTimer);
  }
  const elapsedMs = Date.now() - started;

  const verified = verifyDump(localPath, location.facts.nsPid, target);
  const crashReportPath = `${localPath}.crashreport.json`;
  return {
    pid,
    name: location.facts.name,
    type,
    path: dumpPath,
    localPath,
    bytes: verified.bytes,
    threads: verified.threads,
    liveThreads,
    command,
    elapsedMs,
    crashReport: options.crashReport && fs.existsSync(crashReportPath) ? crashReportPath : null,
  };
}

/** The written file opens as an ELF core of `pid` with threads; else DiagnosticsIpcError(dump-invalid). */
function verifyDump(file: string, pid: number, target: string): { bytes: number; threads: number } {
  let bytes: number;
  try {
    bytes = fs.statSync(file).size;
  } catch {
    throw new DiagnosticsIpcError("dump-invalid", `the runtime of ${target} reported success but ${file} does not exist (written where this user cannot see it?)`);
  }
  let dump;
  try {
    dump = openCoreDump(file);
  } catch (e) {
    rethrowIfBug(e);
    throw new DiagnosticsIpcError("dump-invalid", `the dump ${target} wrote to ${file} does not open: ${(e as ClrscopeError).message}`);
  }
  try {
    const threads = dump.threads.length;
    if (dump.pid !== pid) throw new DiagnosticsIpcError("dump-invalid", `${file} is a dump of pid ${dump.pid ?? "unknown"}, not of ${target}`);
    if (threads === 0) throw new DiagnosticsIpcError("dump-invalid", `${file}, the dump of ${target}, holds no threads`);
    return { bytes, threads };
  } finally {
    dump.close();
  }
}
