// Finding a process's diagnostics socket through /proc, as the reference client does
// (Microsoft.Diagnostics.NETCore.Client IpcTransport.cs PidIpcEndpoint): the runtime creates
// `$TMPDIR/dotnet-diagnostic-{pid}-{key}-socket`, with the target's own TMPDIR (read from
// /proc/PID/environ) and, for a process in another PID namespace, its own pid (the last NSpid
// value) under its own root (/proc/PID/root).
//
// Stricter than the reference, because a TMPDIR such as /tmp is writable by every local user:
// only the runtime's exact name counts, whose key is the process's start time in clock ticks
// (/proc/PID/stat field 22; so a socket left behind by an earlier process with the same pid is
// stale), and only when it is a socket (not a symlink) owned by the process's uid. Other names
// (dsrouter's) and other owners are reported as ignored, never connected to.
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
  /** Other sockets named for this pid, not used, with why. */
  ignored: IgnoredSocket[];
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

/** Any diagnostics socket name: the runtime's (no prefix) or another tool's (`dsrouter-...`). */
const SOCKET_NAME = /^dotnet-diagnostic-(?:(.*?)-)?(\d+)-(\d+)-socket$/;

interface SocketEntry {
  name: string;
  /** A prefix before the pid (e.g. "dsrouter"): not a name the runtime gives its socket. */
  prefix: string | null;
  pid: number;
  key: number;
}

/** A directory's diagnostics sockets by (namespace) pid; a small cache serves `ps`, which asks per process. */
export class SocketDirectoryCache {
  private readonly listings = new Map<string, SocketEntry[] | NodeJS.ErrnoException>();

  list(dir: string): SocketEntry[] | NodeJS.ErrnoException {
    let entries = this.listings.get(dir);
    if (entries === undefined) {
      try {
        entries = [];
        for (const name of fs.readdirSync(dir)) {
          const m = SOCKET_NAME.exec(name);
          if (m) entries.push({ name, prefix: m[1] ?? null, pid: Number(m[2]), key: Number(m[3]) });
        }
      } catch (e) {
        entries = e as NodeJS.ErrnoException;
      }
      this.listings.set(dir, entries);
    }
    return entries;
  }
}

/** A socket named for the process that clrscope will not use. */
export interface IgnoredSocket {
  path: string;
  reason: "not-runtime-name" | "stale" | "symlink" | "not-a-socket" | "wrong-owner" | "unverifiable";
  /** Why, for a person (no path). */
  message: string;
}

/** The runtime's own socket name for a process: `dotnet-diagnostic-<pid>-<start time>-socket` (KEY when unknown). */
function runtimeSocketName(nsPid: number, startTime: number | null): string {
  return `dotnet-diagnostic-${nsPid}-${startTime ?? "KEY"}-socket`;
}

/**
 * Why the socket entry `e` (named for this process's pid) must not be used, or null when it is
 * the runtime's socket: its exact name, a socket (not a symlink), owned by the process's uid.
 * Another local user can create any name in a shared TMPDIR; only the owner check tells the
 * runtime's socket from theirs.
 */
function whyIgnored(e: SocketEntry, file: string, facts: ProcFacts): Omit<IgnoredSocket, "path"> | null {
  if (e.prefix !== null) return { reason: "not-runtime-name", message: `not the runtime's socket name (dotnet-diagnostic-${e.prefix}-... is another tool's, e.g. dsrouter)` };
  if (facts.startTime === null) return { reason: "unverifiable", message: "the process's start time (the socket name's key) is unreadable" };
  if (e.key !== facts.startTime) return { reason: "stale", message: `named for a process ${e.pid} started at tick ${e.key}; this one started at tick ${facts.startTime}` };
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    return { reason: "unverifiable", message: `cannot be examined (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  if (st.isSymbolicLink()) return { reason: "symlink", message: "a symbolic link, not the runtime's socket" };
  if (!st.isSocket()) return { reason: "not-a-socket", message: "not a socket" };
  if (facts.uid === null) return { reason: "unverifiable", message: "the process's uid is unreadable, so the socket's owner cannot be checked" };
  if (st.uid !== facts.uid) return { reason: "wrong-owner", message: `owned by uid ${st.uid}, not by the process's uid ${facts.uid}` };
  return null;
}

/** `path (why)` for each, joined: for one-line messages. */
function describeIgnored(ignored: IgnoredSocket[]): string {
  return ignored.map((i) => `${i.path} (${i.message})`).join("; ");
}

export interface SocketExamination {
  pid: number;
  base: Omit<SocketLocation, "socketPath" | "ignored">;
  socketPath: string | null;
  ignored: IgnoredSocket[];
}

/**
 * What the target's TMPDIR holds for `pid`: the runtime's socket, if one passes every check, and
 * the other candidates with why each was ignored. Throws ProcessAccessError when the directory
 * cannot be listed (permission-denied, not-dotnet) or the process is gone.
 */
export function examineDiagnosticsSockets(pid: number, o: DiscoveryOptions = {}, cache = new SocketDirectoryCache()): SocketExamination {
  const facts = readProcFacts(pid, o);
  const env = readTargetTmpDir(pid, o);
  const targetTmpDir = env.tmpDir ?? (env.readable ? "/tmp" : ownTmpDir(o));
  const namespaced = facts.nsPid !== pid;
  const rootPrefix = namespaced ? path.join(procDir(pid, o), "root") : "";
  const searchDir = namespaced ? path.join(rootPrefix, targetTmpDir) : targetTmpDir;
  const base = { searchDir, targetTmpDir, environReadable: env.readable, namespaced, rootPrefix, facts };

  const listing = cache.list(searchDir);
  if (listing instanceof Error) {
    if (listing.code === "EACCES" || listing.code === "EPERM") {
      throw new ProcessAccessError("permission-denied", `cannot list ${searchDir} to find process ${pid}'s diagnostics socket (permission denied): ${permissionAdvice(facts, namespaced)}`);
    }
    throw new ProcessAccessError("not-dotnet", `process ${pid} (${facts.name}) has no diagnostics socket: ${searchDir} cannot be listed (${listing.code ?? listing.message})${tmpDirAdvice(env.readable)}`);
  }
  let socketPath: string | null = null;
  const ignored: IgnoredSocket[] = [];
  for (const e of listing.filter((x) => x.pid === facts.nsPid)) {
    const file = path.join(searchDir, e.name);
    const why = whyIgnored(e, file, facts);
    if (why) ignored.push({ path: file, ...why });
    else socketPath = file; // the exact name: at most one entry
  }
  return { pid, base, socketPath, ignored };
}

/**
 * The diagnostics socket of `pid`. Throws ProcessAccessError: no-such-process, permission-denied
 * (cannot see into the target's root or TMPDIR), socket-path-too-long, or not-dotnet (naming the
 * candidates ignored and why).
 */
export function findDiagnosticsSocket(pid: number, o: DiscoveryOptions = {}, cache = new SocketDirectoryCache()): SocketLocation {
  return socketLocationOf(examineDiagnosticsSockets(pid, o, cache));
}

/** The usable socket an examination found, else the ProcessAccessError saying why there is none. */
export function socketLocationOf({ pid, base, socketPath, ignored }: SocketExamination): SocketLocation {
  const { facts, targetTmpDir, searchDir } = base;
  if (socketPath === null) {
    const expected = path.join(targetTmpDir, runtimeSocketName(facts.nsPid, facts.startTime));
    if (Buffer.byteLength(expected) > MAX_SOCKET_PATH) {
      throw new ProcessAccessError("socket-path-too-long", `process ${pid} (${facts.name}) has no diagnostics socket: its path ${expected} would be ${Buffer.byteLength(expected)} bytes, over the ${MAX_SOCKET_PATH}-byte limit of Unix sockets; start the process with a shorter TMPDIR`);
    }
    const why = ignored.length > 0 ? `; ignored: ${describeIgnored(ignored)}` : "";
    throw new ProcessAccessError("not-dotnet", `process ${pid} (${facts.name}) is not a .NET process with diagnostics enabled: no usable ${path.basename(expected)} in ${searchDir}${why}${tmpDirAdvice(base.environReadable)}`);
  }
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new ProcessAccessError("socket-path-too-long", `process ${pid}'s diagnostics socket ${socketPath} is ${Buffer.byteLength(socketPath)} bytes, over the ${MAX_SOCKET_PATH}-byte limit of Unix socket paths; start the process with a shorter TMPDIR`);
  }
  return { ...base, socketPath, ignored };
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
