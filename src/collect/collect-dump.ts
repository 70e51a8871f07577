// `collect`: ask a live .NET process's runtime to write a core dump of itself (GenerateCoreDump3,
// falling back to 2 and 1 as DiagnosticsClient.WriteDump does), watch the file grow while the
// runtime's createdump writes it, then check that it opens as a core of that process.
//
// The runtime writes the file as the target's user: clrscope refuses an output path that exists
// (unless told to replace a regular file) or is a symlink, and afterwards accepts only a regular
// file at that path (no symlink) owned by the target's uid, holding a core of that pid.
import * as fs from "node:fs";
import * as path from "node:path";
import { ClrscopeError, CollectInterruptedError, DiagnosticsIpcError, OutputPathError, ProcessAccessError, rethrowIfBug } from "../errors.js";
import { openCoreDump } from "../native/process.js";
import { exchange, type ExchangeOptions } from "./diagnostics-client.js";
import { findDiagnosticsSocket, permissionAdvice, type DiscoveryOptions, type ProcFacts } from "./discovery.js";
import { decodeServerReply, DumpCommand, DumpFlags, encodeDumpRequest, HRESULT_UNKNOWN_COMMAND, runtimeError, type DumpTypeName } from "./ipc-protocol.js";
import { listDotnetProcesses } from "./process-list.js";

/** Overall cap on the wait: a full dump of a big process takes a while, and the runtime answers only when it is written. */
export const DUMP_TIMEOUT_MS = 60 * 60_000;
/** Give up when the runtime has not answered and the file has not grown for this long. */
const STALL_TIMEOUT_MS = 30_000;
/** How often the output file's size is looked at. */
const POLL_MS = 250;

export interface CollectOptions extends DiscoveryOptions {
  type?: DumpTypeName;
  /** Where the dump goes (made absolute against our cwd: the target's cwd may differ). */
  output: string;
  /** Ask createdump to log to the target's console (LoggingEnabled). */
  diag?: boolean;
  /** Ask createdump for a crash report next to the dump (<dump>.crashreport.json). */
  crashReport?: boolean;
  /** Replace an existing regular file at `output` (never a symlink or anything else). */
  overwrite?: boolean;
  /** Overall bound on the runtime's reply (default 1 h). */
  timeoutMs?: number;
  /** Give up when the runtime has not answered and the file has not grown for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Stops the wait (the CLI's SIGINT): rejects with CollectInterruptedError saying where the runtime may still be writing. */
  signal?: AbortSignal;
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
 * Has the runtime of process `pid` write a dump to `options.output`, then checks the file and
 * that it is a core of that process with threads. Throws OutputPathError (the path exists or is
 * a symlink), ProcessAccessError (cannot reach the process), RuntimeReportedError (the runtime's
 * HRESULT and message), DiagnosticsIpcError (timeout, stall, a result that fails the checks) or
 * CollectInterruptedError.
 */
export async function collectDump(pid: number, options: CollectOptions): Promise<CollectResult> {
  const type = options.type ?? "full";
  const procRoot = options.procRoot ?? "/proc";
  if (options.output === "") throw new OutputPathError("the output path is empty: name a file");
  const location = findDiagnosticsSocket(pid, options);
  const dumpPath = path.resolve(options.output);
  // The target writes the file: in another mount namespace its "/" is our /proc/PID/root.
  const localPath = location.namespaced ? path.join(location.rootPrefix, dumpPath) : dumpPath;
  const target = `process ${pid} (${location.facts.name})`;
  if (options.signal?.aborted) throw new CollectInterruptedError(`interrupted before the dump of ${target} was requested`);
  prepareOutput(localPath, options.overwrite === true);
  const flags = (options.diag ? DumpFlags.loggingEnabled : 0) | (options.crashReport ? DumpFlags.crashReportEnabled : 0);
  const liveThreads = countLiveThreads(pid, procRoot);
  const started = Date.now();

  // One controller ends the wait: on the caller's interrupt, or when the file stops growing.
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort(new CollectInterruptedError(`interrupted: the runtime of ${target} may still be writing the dump to ${dumpPath}`));
  options.signal?.addEventListener("abort", onInterrupt, { once: true });
  const stallMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
  let lastSize = -1;
  let lastGrowth = started;
  const watcher = setInterval(() => {
    const bytes = sizeOf(localPath);
    const now = Date.now();
    if (bytes > lastSize) {
      lastSize = bytes;
      lastGrowth = now;
    }
    options.onProgress?.({ elapsedMs: now - started, bytes: Math.max(bytes, 0) });
    if (now - lastGrowth >= stallMs) {
      const state = bytes < 0 ? "has not created" : `has not added to (${bytes} bytes so far)`;
      stop.abort(new DiagnosticsIpcError("timeout", `gave up on ${target}: no answer, and it ${state} ${dumpPath} for ${(stallMs / 1000).toFixed(1)} s; its runtime may still be writing there (--stall-timeout SECS waits longer)`));
    }
  }, Math.min(options.progressIntervalMs ?? POLL_MS, stallMs));
  let command: 1 | 2 | 3;
  try {
    command = await requestDump(location.socketPath, dumpPath, type, flags, {
      timeoutMs: options.timeoutMs ?? DUMP_TIMEOUT_MS,
      target,
      permissionAdvice: permissionAdvice(location.facts, location.namespaced),
      signal: stop.signal,
    });
  } finally {
    clearInterval(watcher);
    options.signal?.removeEventListener("abort", onInterrupt);
  }
  const elapsedMs = Date.now() - started;

  const verified = verifyDump(localPath, location.facts, target);
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

/** The file's size, -1 when it does not exist (yet); never follows a symlink. */
function sizeOf(file: string): number {
  try {
    return fs.lstatSync(file).size;
  } catch {
    return -1;
  }
}

/**
 * Refuses an output path that exists, unless `overwrite` and it is a regular file, which is then
 * removed: the runtime creates a new file rather than writing into one that someone else may
 * have linked or hold open. A symlink is never followed or replaced.
 */
function prepareOutput(file: string, overwrite: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new OutputPathError(`cannot examine the output path ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose another -o path`);
  }
  if (st.isSymbolicLink()) throw new OutputPathError(`the output path ${file} is a symbolic link: clrscope never writes through one; choose another -o path`);
  if (!st.isFile()) throw new OutputPathError(`the output path ${file} exists and is not a regular file: choose another -o path`);
  if (!overwrite) throw new OutputPathError(`the output path ${file} exists: choose another -o path, or --overwrite to replace it`);
  try {
    fs.unlinkSync(file);
  } catch (e) {
    throw new OutputPathError(`cannot replace the output path ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose another -o path`);
  }
}

/**
 * The written file is a regular file at `file` itself (not a symlink), owned by the target's
 * uid, and opens as an ELF core of the target's pid with threads; else DiagnosticsIpcError(dump-invalid).
 * The checks and the parse are on one open descriptor, so the file cannot be swapped between them.
 */
function verifyDump(file: string, facts: ProcFacts, target: string): { bytes: number; threads: number } {
  const invalid = (why: string) => new DiagnosticsIpcError("dump-invalid", `the runtime of ${target} reported success but ${why}`);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw invalid(`${file} does not exist (written where this user cannot see it?)`);
    if (code === "ELOOP") throw invalid(`${file} is a symbolic link: not used`);
    throw invalid(`${file} cannot be opened (${code ?? (e as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw invalid(`${file} is not a regular file: not used`);
    if (st.uid !== facts.uid) throw invalid(`${file} is owned by uid ${st.uid}, not by the process's uid ${facts.uid ?? "(unreadable)"}: not used`);
    const viaFd = `/proc/self/fd/${fd}`;
    let dump;
    try {
      dump = openCoreDump(viaFd);
    } catch (e) {
      rethrowIfBug(e);
      throw new DiagnosticsIpcError("dump-invalid", `the dump ${target} wrote to ${file} does not open: ${(e as ClrscopeError).message.split(viaFd).join(file)}`);
    }
    try {
      const threads = dump.threads.length;
      if (dump.pid !== facts.nsPid) throw new DiagnosticsIpcError("dump-invalid", `${file} is a dump of pid ${dump.pid ?? "unknown"}, not of ${target}`);
      if (threads === 0) throw new DiagnosticsIpcError("dump-invalid", `${file}, the dump of ${target}, holds no threads`);
      return { bytes: st.size, threads };
    } finally {
      dump.close();
    }
  } finally {
    fs.closeSync(fd);
  }
}
