// Finding a process's diagnostics socket through /proc, as the reference client does
// (Microsoft.Diagnostics.NETCore.Client IpcTransport.cs PidIpcEndpoint): the runtime creates
// `$TMPDIR/dotnet-diagnostic-{pid}-{key}-socket`, with the target's own TMPDIR (read from
// /proc/PID/environ) and, for a process in another PID namespace, its own pid (the last NSpid
// value) under its own root (/proc/PID/root). Of several candidates the newest wins.
//
// One improvement over the reference: the key is the process's start time in clock ticks
// (/proc/PID/stat field 22), so a socket left behind by an earlier process with the same pid is
// recognised as stale instead of being connected to.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ProcessAccessError } from "../errors.js";

/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** Where to look: tests point these at fake trees. */
export interface DiscoveryOptions {
  /** The proc file system (default /proc). */
  procRoot?: string;
  /** Our own temp directory, used when the target's TMPDIR cannot be read (default os.tmpdir()). */
  ownTmpDir?: string;
}

/** Facts about a live process read from /proc (readable by any user). */
export interface ProcFacts {
  pid: number;
  /** /proc/PID/comm */
  name: string;
  /** Start time in clock ticks since boot: the socket name's disambiguation key. */
  startTime: number | null;
  /** State letter from /proc/PID/stat (R, S, Z, ...). */
  state: string;
  /** Real uid of the process. */
  uid: number | null;
  /** The pid inside the process's innermost PID namespace (equal to pid when not namespaced). */
  nsPid: number;
  /** /proc/PID/cmdline with arguments joined by spaces; null when unreadable or empty (kernel thread). */
  commandLine: string | null;
}

export interface SocketLocation {
  /** The socket path to connect to. */
  socketPath: string;
  /** The directory searched (the target's TMPDIR, seen through /proc/PID/root if namespaced). */
  searchDir: string;
  /** The target's TMPDIR as the target sees it. */
  targetTmpDir: string;
  /** False when /proc/PID/environ was unreadable and our own TMPDIR was assumed. */
  environReadable: boolean;
  /** The process is in another PID namespace: paths it sees must be prefixed with rootPrefix. */
  namespaced: boolean;
  /** /proc/PID/root for namespaced targets, "" otherwise. */
  rootPrefix: string;
  facts: ProcFacts;
}

function procDir(pid: number, o: DiscoveryOptions): string {
  return path.join(o.procRoot ?? "/proc", String(pid));
}

function ownTmpDir(o: DiscoveryOptions): string {
  return o.ownTmpDir ?? (process.env.TMPDIR || os.tmpdir());
}

/** Facts from /proc/PID/{stat,status,comm,cmdline}; ProcessAccessError(no-such-process) if gone. */
export function readProcFacts(pid: number, o: DiscoveryOptions = {}): ProcFacts {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new ProcessAccessError("no-such-process", `${pid} is not a process id`);
  const dir = procDir(pid, o);
  let stat: string;
  try {
    stat = fs.readFileSync(path.join(dir, "stat"), "utf8");
  } catch {
    throw new ProcessAccessError("no-such-process", `no process with pid ${pid} is running`);
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  const state = fields[0] ?? "?";
  const startTime = Number(fields[19]);
  const name = stat.slice(stat.indexOf("(") + 1, close);
  let uid: number | null = null;
  let nsPid = pid;
  try {
    const status = fs.readFileSync(path.join(dir, "status"), "utf8");
    const uidLine = /^Uid:\s+(\d+)/m.exec(status);
    if (uidLine) uid = Number(uidLine[1]);
    const nsLine = /^NSpid:\s+(.+)$/m.exec(status);
    const ids = nsLine ? nsLine[1]!.trim().split(/\s+/).map(Number) : [];
    if (ids.length > 1 && Number.isSafeInteger(ids[ids.length - 1])) nsPid = ids[ids.length - 1]!;
  } catch {
    // status vanished with the process, or hidepid: keep the defaults
  }
  let commandLine: string | null = null;
  try {
    const raw = fs.readFileSync(path.join(dir, "cmdline"), "utf8");
    const args = raw.split("\0");
    if (args[args.length - 1] === "") args.pop();
    if (args.length > 0) commandLine = args.join(" ");
  } catch {
    // another user's process under hidepid
  }
  if (state === "Z" || state === "X") throw new ProcessAccessError("no-such-process", `process ${pid} (${name}) has exited`);
  return { pid, name, startTime: Number.isSafeInteger(startTime) ? startTime : null, state, uid, nsPid, commandLine };
}

/** TMPDIR from /proc/PID/environ, or null with readable=false when we may not read it. */
function readTargetTmpDir(pid: number, o: DiscoveryOptions): { tmpDir: string | null; readable: boolean } {
  let environ: Buffer;
  try {
    environ = fs.readFileSync(path.join(procDir(pid, o), "environ"));
  } catch {
    return { tmpDir: null, readable: false }; // 0400: another user's process
  }
  for (const entry of environ.toString("utf8").split("\0")) {
    if (entry.startsWith("TMPDIR=") && entry.length > 7) return { tmpDir: entry.slice(7), readable: true };
  }
  return { tmpDir: null, readable: true };
}

const SOCKET_NAME = /^dotnet-diagnostic-(?:dsrouter-)?(\d+)-(\d+)-socket$/;

/** A directory's diagnostics sockets by (namespace) pid; a small cache serves `ps`, which asks per process. */
export class SocketDirectoryCache {
  private readonly listings = new Map<string, { name: string; pid: number; key: number; dsrouter: boolean }[] | NodeJS.ErrnoException>();

  list(dir: string): { name: string; pid: number; key: number; dsrouter: boolean }[] | NodeJS.ErrnoException {
    let entries = this.listings.get(dir);
    if (entries === undefined) {
      try {
        entries = [];
        for (const name of fs.readdirSync(dir)) {
          const m = SOCKET_NAME.exec(name);
          if (m) entries.push({ name, pid: Number(m[1]), key: Number(m[2]), dsrouter: name.includes("-dsrouter-") });
        }
      } catch (e) {
        entries = e as NodeJS.ErrnoException;
      }
      this.listings.set(dir, entries);
    }
    return entries;
  }
}

function mtimeMs(p: string): number {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * The diagnostics socket of `pid`. Throws ProcessAccessError: no-such-process, permission-denied
 * (cannot see into the target's root or TMPDIR), socket-path-too-long, or not-dotnet.
 */
export function findDiagnosticsSocket(pid: number, o: DiscoveryOptions = {}, cache = new SocketDirectoryCache()): SocketLocation {
  const facts = readProcFacts(pid, o);
  const env = readTargetTmpDir(pid, o);
  const targetTmpDir = env.tmpDir ?? (env.readable ? "/tmp" : ownTmpDir(o));
  const namespaced = facts.nsPid !== pid;
  const rootPrefix = namespaced ? path.join(procDir(pid, o), "root") : "";
  const searchDir = namespaced ? path.join(rootPrefix, targetTmpDir) : targetTmpDir;
  const base: Omit<SocketLocation, "socketPath"> = { searchDir, targetTmpDir, environReadable: env.readable, namespaced, rootPrefix, facts };

  const listing = cache.list(searchDir);
  if (listing instanceof Error) {
    if (listing.code === "EACCES" || listing.code === "EPERM") {
      throw new ProcessAccessError("permission-denied", `cannot list ${searchDir} to find process ${pid}'s diagnostics socket (permission denied): ${permissionAdvice(facts, namespaced)}`);
    }
    throw new ProcessAccessError("not-dotnet", `process ${pid} (${facts.name}) has no diagnostics socket: ${searchDir} cannot be listed (${listing.code ?? listing.message})${tmpDirAdvice(env.readable)}`);
  }
  const mine = listing.filter((e) => e.pid === facts.nsPid);
  // The key is the start time: a socket with another key belongs to an earlier process with this pid.
  const current = facts.startTime === null ? mine : mine.filter((e) => e.key === facts.startTime);
  const candidates = current.map((e) => ({ ...e, path: path.join(searchDir, e.name), mtime: mtimeMs(path.join(searchDir, e.name)) }));
  // Newest first; at equal times the dsrouter socket wins, as in the reference client.
  candidates.sort((a, b) => b.mtime - a.mtime || Number(b.dsrouter) - Number(a.dsrouter));
  const found = candidates[0];
  if (!found) {
    const expected = path.join(targetTmpDir, `dotnet-diagnostic-${facts.nsPid}-${facts.startTime ?? "KEY"}-socket`);
    if (Buffer.byteLength(expected) > MAX_SOCKET_PATH) {
      throw new ProcessAccessError("socket-path-too-long", `process ${pid} (${facts.name}) has no diagnostics socket: its path ${expected} would be ${Buffer.byteLength(expected)} bytes, over the ${MAX_SOCKET_PATH}-byte limit of Unix sockets; start the process with a shorter TMPDIR`);
    }
    const stale = mine.length > current.length ? ` (${mine.length - current.length} stale socket${mine.length - current.length > 1 ? "s" : ""} of an earlier process ${pid} ignored)` : "";
    throw new ProcessAccessError("not-dotnet", `process ${pid} (${facts.name}) is not a .NET process with diagnostics enabled: no dotnet-diagnostic-${facts.nsPid}-*-socket in ${searchDir}${stale}${tmpDirAdvice(env.readable)}`);
  }
  if (Buffer.byteLength(found.path) > MAX_SOCKET_PATH) {
    throw new ProcessAccessError("socket-path-too-long", `process ${pid}'s diagnostics socket ${found.path} is ${Buffer.byteLength(found.path)} bytes, over the ${MAX_SOCKET_PATH}-byte limit of Unix socket paths; start the process with a shorter TMPDIR`);
  }
  return { ...base, socketPath: found.path };
}

function tmpDirAdvice(environReadable: boolean): string {
  return environReadable ? "" : " (its environment is unreadable, so its TMPDIR is unknown: run as the same user)";
}

/** What to do about a permission problem, in one clause. */
export function permissionAdvice(facts: ProcFacts, namespaced: boolean): string {
  const owner = facts.uid !== null ? `uid ${facts.uid}` : "its owner";
  const ns = namespaced ? " and, from outside its container, with CAP_SYS_PTRACE (or a privileged container with pid: host) to see /proc/PID/root" : "; in a container, add CAP_SYS_PTRACE";
  return `run clrscope as the same user as the process (${owner}) or as root${ns}`;
}
