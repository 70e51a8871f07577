// Where a DAC may come from. Loading a DAC runs its code, and a dump names paths chosen by
// whoever made it, so the DAC is only ever taken from:
//  - `--dac PATH`, named by the user;
//  - a directory on this machine whose libcoreclr.so has the dump's libcoreclr GNU build-id
//    (the same build), with the DAC's @(#)Version stamp equal to the dump's runtime stamp, at an
//    absolute path whose files and every directory above them are owned by root or the current
//    user and writable by no one else: the dump's own runtime directory (if it passes), then the
//    machine's .NET installs.
// Nothing else is opened as a library; the reason is one line for the user.
import { accessSync, closeSync, constants, existsSync, lstatSync, readdirSync, readFileSync, readSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ClrscopeError } from "../../errors.js";
import { openRegularFile } from "../../dump/regular-file.js";
import { MAX_VERSION_STAMP_SCAN_BYTES } from "../../limits.js";
import { ElfFile } from "../../native/elf-file.js";
import type { NativeModule } from "../../native/modules.js";
import type { NativeProcess } from "../../native/process.js";

const DAC_FILE_NAME = "libmscordaccore.so";
const RUNTIME_FILE_NAME = "libcoreclr.so";
const HOW_TO_NAME_ONE = "pass --dac PATH to name the runtime's libmscordaccore.so";

/** A DAC that may be loaded: where, why it is trusted, and the build it serves. */
export interface TrustedDac {
  path: string;
  /** Why this file: "named by --dac", "beside the dump's libcoreclr.so (same build-id)", ... */
  source: string;
  version?: string;
}

// Every runtime build stamps "@(#)Version <file version> @Commit: <sha>" into libcoreclr.so and its
// DAC alike. A DAC of another build misreads the runtime's structures (wrong answers, or a crash
// inside the DAC).
const VERSION_MARK = Buffer.from("@(#)Version ");
const VERSION_MAX = 256;
const SCAN_CHUNK = 256 * 1024;

function versionAt(bytes: Buffer, at: number): string {
  const start = at + VERSION_MARK.length;
  let end = start;
  while (end < bytes.length && end - start < VERSION_MAX && bytes[end] !== 0) end++;
  return bytes.toString("latin1", start, end);
}

/** A file's version stamp: in its data sections, near the end (the whole file is read only if not). */
export function fileVersionStamp(path: string): string | undefined {
  // A FIFO or device in a DAC's place must not block or feed us endless bytes.
  const { fd, size } = openRegularFile(path, "a DAC (libmscordaccore.so)");
  try {
    const tail = Buffer.alloc(Math.min(size, SCAN_CHUNK));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const at = tail.lastIndexOf(VERSION_MARK);
    if (at >= 0 && at + VERSION_MARK.length + VERSION_MAX <= tail.length) return versionAt(tail, at);
  } finally {
    closeSync(fd);
  }
  const bytes = readFileSync(path);
  const at = bytes.lastIndexOf(VERSION_MARK);
  return at >= 0 ? versionAt(bytes, at) : undefined;
}

/** The runtime's version stamp, from its image in dump memory (scanned from the end, where the data sections keep it). */
function runtimeVersionStamp(process: NativeProcess, m: NativeModule): string | undefined {
  // Chunks overlap by the mark's length so that a mark across a boundary is seen whole. The
  // module's extent comes from the dump: a forged one must not make this scan for ever.
  const floor = Math.max(m.start, m.end - MAX_VERSION_STAMP_SCAN_BYTES);
  for (let end = m.end; end > floor; end -= SCAN_CHUNK - VERSION_MARK.length) {
    const start = Math.max(floor, end - SCAN_CHUNK);
    const chunk = process.memory.tryRead(start, end - start);
    if (!chunk) continue;
    const at = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).lastIndexOf(VERSION_MARK);
    if (at < 0) continue;
    const text = process.memory.tryRead(start + at, Math.min(VERSION_MARK.length + VERSION_MAX, m.end - start - at));
    return text ? versionAt(Buffer.from(text.buffer, text.byteOffset, text.byteLength), 0) : undefined;
  }
  return undefined;
}

/**
 * Why a file may not be trusted, or undefined when it may: its real path and every directory
 * above it must be owned by root or us and writable by no one else (else someone else could
 * have put, or could swap, the file). The real path is what gets loaded.
 */
function untrustedReason(path: string): string | undefined {
  if (!isAbsolute(path)) return `${path} is a relative path`;
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    return `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
  const uid = process.getuid?.() ?? 0;
  for (let p = real; ; p = dirname(p)) {
    const st = lstatSync(p);
    if (st.uid !== 0 && st.uid !== uid) return `${p} is owned by another user (uid ${st.uid})`;
    if ((st.mode & 0o022) !== 0) return `${p} is writable by ${(st.mode & 0o002) !== 0 ? "everyone" : "its group"}`;
    if (p === dirname(p)) return undefined;
  }
}

/** The `dotnet` that PATH finds, by its real path (a symlink such as /usr/bin/dotnet leads to the install). */
function dotnetOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!isAbsolute(dir)) continue;
    try {
      const path = join(dir, "dotnet");
      accessSync(path, constants.X_OK);
      return realpathSync(path);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Roots of the machine's .NET installs, in the order dotnet itself would be found. */
function dotnetInstallRoots(): string[] {
  const roots: string[] = [];
  const dotnet = dotnetOnPath();
  if (dotnet) roots.push(dirname(dotnet));
  const env = process.env.DOTNET_ROOT;
  if (env && isAbsolute(env)) roots.push(env);
  roots.push("/usr/share/dotnet", "/usr/lib/dotnet", join(homedir(), ".dotnet"));
  return [...new Set(roots.map((r) => resolve(r)))];
}

/** The shared-runtime directories of the machine's .NET installs (root/shared/Microsoft.NETCore.App/VERSION). */
function installedRuntimeDirs(): string[] {
  const out: string[] = [];
  for (const root of dotnetInstallRoots()) {
    const shared = join(root, "shared", "Microsoft.NETCore.App");
    let versions: string[];
    try {
      versions = readdirSync(shared);
    } catch {
      continue;
    }
    out.push(...versions.sort().reverse().map((v) => join(shared, v)));
  }
  return out;
}

function buildIdOf(path: string): string | undefined {
  try {
    const elf = new ElfFile(path);
    elf.close();
    return elf.buildId;
  } catch (e) {
    if (e instanceof ClrscopeError) return undefined;
    throw e;
  }
}

/** Why a runtime directory cannot give the DAC for this build, or undefined when it can. */
function runtimeDirProblem(dir: string, buildId: string, stamp: string | undefined): string | undefined {
  const runtime = join(dir, RUNTIME_FILE_NAME);
  const dac = join(dir, DAC_FILE_NAME);
  const untrusted = untrustedReason(runtime) ?? untrustedReason(dac);
  if (untrusted) return untrusted;
  const found = buildIdOf(runtime);
  if (found !== buildId) return `${runtime} is another build (build-id ${found ?? "none"})`;
  let dacStamp: string | undefined;
  try {
    dacStamp = fileVersionStamp(realpathSync(dac));
  } catch (e) {
    if (e instanceof ClrscopeError) return e.message;
    throw e;
  }
  if (dacStamp === undefined) return `${dac} has no @(#)Version stamp`;
  if (stamp !== undefined && dacStamp !== stamp) return `${dac} is build ${dacStamp}, the dump's runtime is ${stamp}`;
  return undefined;
}

/** The DAC to load for this dump, or why there is none that may be loaded (one line). */
export function findTrustedDac(process: NativeProcess, userPath?: string): TrustedDac | { error: string } {
  const runtimeModule = process.modules.modules.find((m) => m.name === RUNTIME_FILE_NAME);
  if (!runtimeModule) return { error: "no .NET runtime in this dump (libcoreclr.so is not loaded)" };
  const stamp = runtimeVersionStamp(process, runtimeModule);

  if (userPath !== undefined) {
    const path = resolve(userPath);
    if (!existsSync(path)) return { error: `no DAC at ${path}` };
    let version: string | undefined;
    try {
      version = fileVersionStamp(path);
    } catch (e) {
      if (e instanceof ClrscopeError) return { error: `cannot read the DAC: ${e.message}` };
      return { error: `cannot read the DAC ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
    }
    if (version !== undefined && stamp !== undefined && version !== stamp) {
      return { error: `the DAC ${path} is build ${version}, but the dump's runtime is build ${stamp}: pass --dac with the libmscordaccore.so of the same build` };
    }
    return { path, source: "named by --dac", version: stamp ?? version };
  }

  const buildId = runtimeModule.buildId;
  if (!buildId) return { error: `the DAC was not used: the dump does not hold the build-id of its libcoreclr.so, so no DAC on this machine can be matched to it; ${HOW_TO_NAME_ONE}` };
  const recorded = runtimeModule.path;
  // The installs are looked at only when the dump's own directory does not serve.
  function* candidates(): Generator<{ dir: string; source: string }> {
    if (isAbsolute(recorded)) yield { dir: dirname(recorded), source: "beside the dump's libcoreclr.so" };
    for (const dir of installedRuntimeDirs()) yield { dir, source: "from this machine's .NET install" };
  }

  // Why the DAC beside the dump's own libcoreclr.so is not used, if it is not.
  let notBeside = isAbsolute(recorded) ? undefined : `the dump names its libcoreclr.so by a relative path (${recorded})`;
  const seen = new Set<string>();
  for (const { dir, source } of candidates()) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const problem = runtimeDirProblem(dir, buildId, stamp);
    if (!problem) {
      const also = notBeside ? `; the DAC beside the dump's libcoreclr.so was not used: ${notBeside}` : "";
      return { path: realpathSync(join(dir, DAC_FILE_NAME)), source: `${source} (libcoreclr.so with the dump's build-id ${buildId})${also}`, version: stamp };
    }
    if (dir === dirname(recorded) && isAbsolute(recorded)) notBeside = `its directory is not trusted: ${problem}`;
  }
  return { error: `the DAC was not used: ${notBeside}, and no .NET install on this machine has libcoreclr.so build-id ${buildId}; ${HOW_TO_NAME_ONE}` };
}
