// `ps`: the processes that expose a diagnostics socket, with what their runtimes say about
// themselves (ProcessInfo3, falling back to ProcessInfo2 and ProcessInfo as the reference
// client's GetProcessInfo does).
import * as fs from "node:fs";
import { ClrscopeError, rethrowIfBug } from "../errors.js";
import { MAX_CONCURRENT_PROCESS_QUERIES } from "../limits.js";
import { exchange, QUERY_TIMEOUT_MS, type ExchangeOptions } from "./diagnostics-client.js";
import { examineDiagnosticsSockets, findDiagnosticsSocket, permissionAdvice, socketLocationOf, SocketDirectoryCache, type DiscoveryOptions, type IgnoredSocket, type SocketLocation } from "./discovery.js";
import {
  CommandSet,
  decodeProcessInfo,
  decodeServerReply,
  encodeMessage,
  HRESULT_UNKNOWN_COMMAND,
  ProcessCommand,
  runtimeError,
  runtimeVersionOf,
  type ProcessInfo,
} from "./ipc-protocol.js";

export interface QueryOptions extends DiscoveryOptions {
  /** Per exchange with a runtime (default 5 s for one process, LIST_QUERY_TIMEOUT_MS for a list). */
  timeoutMs?: number;
}

/** Asks the runtime behind `socketPath` for its ProcessInfo3, else 2, else 1. */
export async function queryProcessInfo(socketPath: string, options: ExchangeOptions = {}): Promise<ProcessInfo> {
  const attempts: [1 | 2 | 3, number][] = [
    [3, ProcessCommand.processInfo3],
    [2, ProcessCommand.processInfo2],
    [1, ProcessCommand.processInfo],
  ];
  for (const [version, commandId] of attempts) {
    const reply = decodeServerReply(await exchange(socketPath, encodeMessage(CommandSet.process, commandId), options));
    if (reply.ok) return decodeProcessInfo(reply.payload, version);
    if (reply.hresult === HRESULT_UNKNOWN_COMMAND && version > 1) continue; // an older runtime
    throw runtimeError(`ProcessInfo${version === 1 ? "" : version}`, reply);
  }
  throw new Error("unreachable");
}

/** One `ps` row. */
export interface DotnetProcess {
  pid: number;
  /** /proc/PID/comm */
  name: string;
  /** The runtime's command line (ProcessInfo), else /proc/PID/cmdline. */
  commandLine: string | null;
  /** e.g. "10.0.12" (null before ProcessInfo2, i.e. .NET 5). */
  runtimeVersion: string | null;
  /** The runtime's full product version, e.g. "10.0.12+abc..." */
  clrProductVersion: string | null;
  /** e.g. "linux-x64" (ProcessInfo3, .NET 8+). */
  runtimeIdentifier: string | null;
  os: string | null;
  arch: string | null;
  entryAssembly: string | null;
  /** The pid inside the process's PID namespace (differs from pid in a container). */
  nsPid: number;
  socketPath: string;
  /** Other sockets named for this pid that were not used, and why (another owner, a symlink, dsrouter's name, stale). */
  ignoredSockets: IgnoredSocket[];
  /** Set when the socket exists but the runtime could not be asked (permission, no answer). */
  error: { code: string; message: string } | null;
}

/** A process with sockets named for it, none of which clrscope would use. */
export interface IgnoredProcess {
  pid: number;
  name: string;
  ignoredSockets: IgnoredSocket[];
}

function rowFrom(location: SocketLocation, info: ProcessInfo | null, error: ClrscopeError | null): DotnetProcess {
  return {
    pid: location.facts.pid,
    name: location.facts.name,
    commandLine: info?.commandLine ?? location.facts.commandLine,
    runtimeVersion: runtimeVersionOf(info?.clrProductVersion ?? null),
    clrProductVersion: info?.clrProductVersion ?? null,
    runtimeIdentifier: info?.runtimeIdentifier ?? null,
    os: info?.os ?? null,
    arch: info?.arch ?? null,
    entryAssembly: info?.managedEntrypointAssemblyName ?? null,
    nsPid: location.facts.nsPid,
    socketPath: location.socketPath,
    ignoredSockets: location.ignored,
    error: error ? { code: error.code, message: error.message } : null,
  };
}

/**
 * A process list's default bound on each runtime's answer: a runtime answers ProcessInfo in
 * milliseconds, so one that has not within a second is hung or not a runtime, and its row says so.
 */
const LIST_QUERY_TIMEOUT_MS = 1_000;

/** One process's row; throws ProcessAccessError when it has no diagnostics socket. */
export async function describeDotnetProcess(pid: number, options: QueryOptions = {}, cache?: SocketDirectoryCache): Promise<DotnetProcess> {
  return describeAt(findDiagnosticsSocket(pid, options, cache), options.timeoutMs ?? QUERY_TIMEOUT_MS);
}

/** The row of the process behind `location`: its runtime's answers, or why there are none. */
async function describeAt(location: SocketLocation, timeoutMs: number): Promise<DotnetProcess> {
  const exchangeOptions: ExchangeOptions = { timeoutMs, target: `process ${location.facts.pid} (${location.facts.name})`, permissionAdvice: permissionAdvice(location.facts, location.namespaced) };
  try {
    return rowFrom(location, await queryProcessInfo(location.socketPath, exchangeOptions), null);
  } catch (e) {
    rethrowIfBug(e);
    return rowFrom(location, null, e as ClrscopeError);
  }
}

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Every process in /proc with a usable diagnostics socket, by pid. Processes that vanish meanwhile are left out. */
export async function listDotnetProcesses(options: QueryOptions = {}): Promise<DotnetProcess[]> {
  return (await scanDotnetProcesses(options)).processes;
}

/**
 * listDotnetProcesses, plus the processes that have sockets named for them but none usable
 * (another user's socket planted beside a process, a symlink, a stale socket), with why.
 */
export async function scanDotnetProcesses(options: QueryOptions = {}): Promise<{ processes: DotnetProcess[]; ignored: IgnoredProcess[] }> {
  const procRoot = options.procRoot ?? "/proc";
  const pids = fs
    .readdirSync(procRoot)
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    // Not ourselves: only the real /proc lists us (a fake one for tests may hold any pid).
    .filter((p) => procRoot !== "/proc" || p !== process.pid)
    .sort((a, b) => a - b);
  const cache = new SocketDirectoryCache();
  const locations: SocketLocation[] = [];
  const ignored: IgnoredProcess[] = [];
  for (const pid of pids) {
    try {
      const found = examineDiagnosticsSockets(pid, options, cache);
      if (found.socketPath !== null) locations.push(socketLocationOf(found));
      else if (found.ignored.length > 0) ignored.push({ pid, name: found.base.facts.name, ignoredSockets: found.ignored });
    } catch (e) {
      rethrowIfBug(e); // not .NET, gone, or not ours to see
    }
  }
  // All at once (up to a bound on open sockets): a hung runtime costs one timeout, not one each.
  const timeoutMs = options.timeoutMs ?? LIST_QUERY_TIMEOUT_MS;
  const rows = await mapConcurrently(locations, MAX_CONCURRENT_PROCESS_QUERIES, (location) => describeAt(location, timeoutMs));
  // A socket whose process exited between listing and asking: not a running .NET process.
  return { processes: rows.filter((r) => !(r.error?.code === "not-dotnet" && !fs.existsSync(`${procRoot}/${r.pid}`))), ignored };
}
