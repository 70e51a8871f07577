// .NET scenario fixtures: build a test target (test/targets/<name>, C#) with the machine's
// `dotnet` SDK, run it until it prints READY, dump it with the runtime's own `createdump`, kill it.
// Builds and dumps are cached outside the clone (see cache.ts), keyed by the hash of the target's
// sources, the SDK version and the installed runtimes; a dump is also keyed by its type.
//
// The truth file is written by the target itself (gettid, /proc/self/maps, Environment.Version):
// it is the oracle the tests compare clrscope's answers against.
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cachedDir, repoRoot } from "./cache.js";

export type DumpType = "full" | "heap" | "mini";

export interface TruthThread {
  /** What the thread is parked in: "main", "sleep", "monitor-wait", "pipe-read", "event-wait", "threadpool-item". */
  role: string;
  /** Managed Thread.Name (null for the main thread). */
  name: string | null;
  /** OS thread name (/proc/self/task/<tid>/comm, at most 15 bytes). */
  comm: string;
  /** OS thread id (gettid()); for "main" it equals the pid. */
  osTid: number;
  /** Thread.ManagedThreadId. */
  managedId: number;
  /** Fully qualified name of the managed method the thread is blocked in, e.g. "Hello.Program.SleepForever". */
  parkedIn: string;
  isThreadPool: boolean;
  isBackground: boolean;
}

export interface TruthField {
  name: string;
  /** Type.FullName of the declared type, e.g. "System.Int32", "Hello.Program+TruthPoint". */
  type: string;
  isStatic: boolean;
  /** Convert.ToString(value, InvariantCulture): "True", "3.25", "-123456"; null for structs. */
  value: string | null;
  fields: TruthField[] | null;
}

export interface Truth {
  pid: number;
  /** Environment.Version, e.g. "10.0.12". */
  runtimeVersion: string;
  /** RuntimeInformation.FrameworkDescription, e.g. ".NET 10.0.12". */
  frameworkDescription: string;
  /** Absolute path of libcoreclr.so as mapped in the process (from /proc/self/maps). */
  libcoreclr: string;
  /** Directory of libcoreclr.so (the shared runtime folder, also holds createdump). */
  runtimeDir: string;
  /** Environment.ProcessPath (the `dotnet` host). */
  processPath: string;
  /** Location of the target's main assembly. */
  assembly: string;
  /** The threads the target parked on purpose (plus the main thread); the runtime owns others. */
  threads: TruthThread[];
  /** MethodHandle.Value ("0x..." MethodDesc) of each parked method, by full name (as in parkedIn). */
  methodDescs: Record<string, string>;
  /** TypeHandle.Value ("0x..." MethodTable) of a few types, by full name. */
  methodTables: Record<string, string>;
  /** Objects Main keeps pinned while it waits (addresses are exact): a heap string and a thrown-and-caught exception. */
  objects: {
    string: { address: string; value: string };
    /** InvalidOperationException("hello-exception-message", ArgumentException("inner-message")); hResult is 8 hex digits. */
    exception: { address: string; type: string; message: string; hResult: string; innerType: string; innerMessage: string };
    /** A pinned Hello.Program+TruthFields: its fields by reflection (value: invariant text, null for structs, whose fields follow). */
    fields: { address: string; type: string; fields: TruthField[] };
  };
}

/** What test/targets/scenarios reports about itself (names formatted by its SosNames.cs from reflection). */
export interface ScenarioTruth {
  pid: number;
  runtimeVersion: string;
  libcoreclr: string;
  assembly: string;
  /** Module paths by assembly simple name ("scenarios", "System.Private.CoreLib"). */
  modules: Record<string, string>;
  threads: {
    /** "main", "monitor-wait", "sleep", "lock-holder", "lock-blocked", "pinvoke", "pinvoke-stub", "threadpool",
     * "generic-int-string", "generic-string-int", "dynamic", "exception-in-catch", "exception-nested", "exception-after-catch". */
    role: string;
    name: string | null;
    osTid: number;
    managedId: number;
    isBackground: boolean;
    isThreadPool: boolean;
    /** Type of the exception in flight on the thread (SOS's clrthreads Exception column), null if none. */
    lastThrownType: string | null;
    /** The thread handles that exception inside another exception's catch block (SOS: "(nested exceptions)"). */
    nestedExceptions: boolean;
    /** Expected managed frames, innermost first: the app's call chain (app: true) then the callers
     * StackTrace saw (generic callers left out); SOS method names, shared generic code as __Canon. */
    frames: { name: string; app: boolean }[];
    /** Frames the runtime puts right above the app's innermost frame, where the app knows them (the P/Invoke's IL stub). */
    calleeFrames: string[];
  }[];
  /** typeof(T).TypeHandle.Value of generic instantiations, nested types, arrays, with SOS names. */
  methodTables: { name: string; methodTable: string }[];
  /** Generic type definitions (Outer.Inner<T>, Pair<K,V>): the typical MethodTables, named without arguments. */
  typicalMethodTables: { name: string; methodTable: string }[];
  /** Generic method definitions (Outer.Inner<T>.Park<U>): the typical MethodDescs. */
  typicalMethodDescs: { name: string; methodDesc: string }[];
  /** MethodHandle.Value of parked methods and generic method instantiations (exact, not shared). */
  methodDescs: { name: string; methodDesc: string }[];
  /** The DynamicMethod the "dynamic" thread runs; methodDesc null if the runtime did not hand it out. */
  dynamicMethod: { name: string; methodDesc: string | null };
  /** Live objects per type (after a full GC), for types only the app allocates. */
  objectCounts: { name: string; methodTable: string; count: number }[];
  /** Heap strings "<prefix>0".."<prefix>N-1". */
  strings: { prefix: string; count: number };
  /** Types whose objects the SOS oracle dumps (FieldKinds, CodedFailure, the pending async method's box, SemaphoreSlim+TaskNode, SemaphoreSlim). */
  sosObjectTypes: { name: string; methodTable: string }[];
  /** A thrown-and-caught exception, pinned: its address is exact. */
  exception: { address: string; type: string; message: string };
}

export interface DotnetDump<T = Truth> {
  /** The ELF core file written by createdump. */
  core: string;
  truth: T;
  /** The target's built main assembly. */
  dll: string;
}

const READY_TIMEOUT_MS = 60_000;
const CREATEDUMP_TIMEOUT_MS = 180_000;
const BUILD_TIMEOUT_MS = 600_000;

/** Environment for every `dotnet` child: no telemetry, banners or first-run work. */
export function dotnetEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DOTNET_CLI_TELEMETRY_OPTOUT: "1",
    DOTNET_NOLOGO: "1",
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1",
    DOTNET_GENERATE_ASPNET_CERTIFICATE: "false",
    DOTNET_CLI_UI_LANGUAGE: "en",
    MSBUILDDISABLENODEREUSE: "1",
    DOTNET_CLI_USE_MSBUILD_SERVER: "0",
    ...extra,
  };
}

function run(cmd: string, args: string[], opts: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: dotnetEnv(),
    encoding: "utf8",
    timeout: opts.timeout ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

let dotnetAvailable: boolean | undefined;
/** True when a `dotnet` SDK is on PATH (tests skip their .NET parts otherwise). */
export function hasDotnet(): boolean {
  if (dotnetAvailable === undefined) {
    const r = spawnSync("dotnet", ["--version"], { env: dotnetEnv(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    dotnetAvailable = r.status === 0;
  }
  return dotnetAvailable;
}

let toolchainId: string | undefined;
/** SDK version plus installed runtimes: a new runtime invalidates builds and dumps. */
function dotnetToolchainId(): string {
  toolchainId ??=
    run("dotnet", ["--version"]).stdout.trim() + "\n" + run("dotnet", ["--list-runtimes"]).stdout.trim();
  return toolchainId;
}

function targetDir(target: string): string {
  const dir = path.join(repoRoot, "test", "targets", target);
  if (!fs.existsSync(dir)) throw new Error(`no such .NET test target: ${dir}`);
  return dir;
}

/** The target's source files (relative paths, sorted), without build output. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== "bin" && e.name !== "obj" && !e.name.startsWith(".")) walk(r);
      } else if (e.isFile()) {
        out.push(r);
      }
    }
  };
  walk("");
  return out.sort();
}

/** Ignore Directory.Build.* / Directory.Packages.props that may sit above the cached copy. */
const ISOLATED_BUILD = [
  "-p:ImportDirectoryBuildProps=false",
  "-p:ImportDirectoryBuildTargets=false",
  "-p:ImportDirectoryPackagesProps=false",
  "-p:TreatWarningsAsErrors=false",
];

/**
 * Builds test/targets/<target> (Release) into a cache directory and returns the path of the
 * main assembly. The sources are copied next to the output so that `obj/` never lands in the
 * repository. `properties` ("Name=Value") are extra MSBuild properties (part of the cache key).
 */
export function buildDotnetTarget(target = "hello", framework?: string, properties: string[] = []): string {
  const src = targetDir(target);
  const files = sourceFiles(src);
  const inputs: (string | Buffer)[] = [target, dotnetToolchainId(), ...(framework ? [framework] : []), ...properties];
  for (const f of files) inputs.push(f, fs.readFileSync(path.join(src, f)));
  const dir = cachedDir("dotnet-build", inputs, (out) => {
    const copy = path.join(out, "src");
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      fs.copyFileSync(path.join(src, f), path.join(copy, f));
    }
    const proj = files.find((f) => f.endsWith(".csproj") && !f.includes("/"));
    if (!proj) throw new Error(`${src}: no .csproj`);
    if (framework) {
      // Retarget the copy (restore must see the framework too) and give it an apphost.
      const projPath = path.join(copy, proj);
      const xml = fs.readFileSync(projPath, "utf8")
        .replace(/<TargetFramework>[^<]*<\/TargetFramework>/, `<TargetFramework>${framework}</TargetFramework>`)
        .replace(/<UseAppHost>false<\/UseAppHost>/, "<UseAppHost>true</UseAppHost>");
      fs.writeFileSync(projPath, xml);
    }
    // Another runtime version: a self-contained publish brings that runtime (libcoreclr.so,
    // createdump) from its NuGet runtime pack; the app then runs through its apphost.
    const verb = framework
      ? ["publish", "-r", "linux-x64", "--self-contained", "true"]
      : ["build"];
    run(
      "dotnet",
      [...verb.slice(0, 1), path.join(copy, proj), ...verb.slice(1), "-c", "Release", "-o", path.join(out, "bin"), "--disable-build-servers",
        "-nodeReuse:false", "-clp:ErrorsOnly", ...ISOLATED_BUILD, ...properties.map((p) => `-p:${p}`)],
      { cwd: copy, timeout: BUILD_TIMEOUT_MS },
    );
  });
  const dll = path.join(dir, "bin", `${target}.dll`);
  if (!fs.existsSync(dll)) throw new Error(`build of ${target} did not produce ${dll}`);
  return dll;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/** The runtime's createdump: next to libcoreclr.so, else from `dotnet --list-runtimes`. */
export function findCreatedump(truth?: Truth): string {
  if (truth) {
    const p = path.join(path.dirname(truth.libcoreclr), "createdump");
    if (fs.existsSync(p)) return p;
  }
  const lines = run("dotnet", ["--list-runtimes"]).stdout.split("\n");
  for (const line of lines.reverse()) {
    const m = /^Microsoft\.NETCore\.App (\S+) \[(.+)\]$/.exec(line.trim());
    if (!m) continue;
    if (truth && m[1] !== truth.runtimeVersion) continue;
    const p = path.join(m[2]!, m[1]!, "createdump");
    if (fs.existsSync(p)) return p;
  }
  throw new Error("createdump not found (no Microsoft.NETCore.App runtime with createdump)");
}

const CREATEDUMP_FLAG: Record<DumpType, string> = { full: "-u", heap: "-h", mini: "-n" };

/** A running test target, parked and READY, with its truth file. */
export interface RunningTarget {
  pid: number;
  truth: Truth;
  /** Kills it (SIGKILL) and waits until it is gone; safe to call twice. */
  kill(): void;
}

/**
 * Starts a built target (`dotnet DLL TRUTH`, or its apphost when self-contained) in `dir` and
 * waits for READY; its output goes to dir/app.log. `env` adds environment variables.
 */
export function startDotnetTarget(dll: string, dir: string, opts: { selfContained?: boolean; env?: Record<string, string> } = {}): RunningTarget {
  const truthPath = path.join(dir, "truth.json");
  const logPath = path.join(dir, "app.log");
  fs.rmSync(truthPath, { force: true });
  const logFd = fs.openSync(logPath, "w");
  const [cmd, args] = opts.selfContained ? [dll.replace(/\.dll$/, ""), [truthPath]] : ["dotnet", [dll, truthPath]];
  const child = spawn(cmd, args, {
    cwd: dir,
    env: dotnetEnv({ HELLO_MAX_SECONDS: "900", ...opts.env }), // safety net if we die before killing it
    stdio: ["ignore", logFd, logFd],
  });
  fs.closeSync(logFd);
  child.on("error", () => {}); // reported below through the missing READY
  child.unref();
  const pid = child.pid;
  const kill = (): void => {
    if (pid === undefined) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return; // already gone
    }
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) sleepSync(20);
  };
  try {
    if (pid === undefined) throw new Error("could not start dotnet");
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const log = fs.readFileSync(logPath, "utf8");
      if (/^READY$/m.test(log) && fs.existsSync(truthPath)) break;
      if (!isAlive(pid)) throw new Error(`${path.basename(dll)} exited before READY:\n${log}`);
      if (Date.now() > deadline) throw new Error(`${path.basename(dll)}: no READY within ${READY_TIMEOUT_MS} ms:\n${log}`);
      sleepSync(50);
    }
    const truth = JSON.parse(fs.readFileSync(truthPath, "utf8")) as Truth;
    if (truth.pid !== pid) throw new Error(`truth pid ${truth.pid} is not the child's pid ${pid}`);
    return { pid, truth, kill };
  } catch (e) {
    kill();
    throw e;
  }
}

/**
 * Runs the target until READY, dumps it with createdump into `dir` (core, truth.json,
 * createdump.log, app.log) and kills it, whatever happens.
 */
function captureDump(dll: string, type: DumpType, dir: string, options: { selfContained?: boolean; env?: Record<string, string> }): void {
  const target = startDotnetTarget(dll, dir, options);
  try {
    const core = path.join(dir, "core");
    const r = run(findCreatedump(target.truth), [CREATEDUMP_FLAG[type], "-f", core, String(target.pid)], { timeout: CREATEDUMP_TIMEOUT_MS });
    fs.writeFileSync(path.join(dir, "createdump.log"), r.stdout + r.stderr);
    if (!fs.existsSync(core) || fs.statSync(core).size === 0) throw new Error(`createdump wrote no core:\n${r.stdout}${r.stderr}`);
  } finally {
    target.kill();
  }
}

/**
 * A core dump of a running .NET test target with its truth file, built and dumped once and then
 * served from the test cache. `type`: "full" (createdump -u), "heap" (-h) or "mini" (-n). `framework`
 * (e.g. "net9.0") runs the target self-contained on that runtime version instead of the
 * machine's shared .NET 10 runtime. `properties` ("Name=Value") are passed to the build.
 */
export function dotnetDump(target = "hello", type: DumpType = "full", framework?: string, properties: string[] = []): DotnetDump {
  const dll = buildDotnetTarget(target, framework, properties);
  const buildHash = path.basename(path.dirname(path.dirname(dll)));
  const dir = cachedDir("dotnet-dump", [target, buildHash, type], (out) => captureDump(dll, type, out, { selfContained: framework !== undefined }));
  const core = path.join(dir, "core");
  const truth = JSON.parse(fs.readFileSync(path.join(dir, "truth.json"), "utf8")) as Truth;
  return { core, truth, dll };
}

/**
 * The build framework and properties for a runtime name. "net11.0" has no SDK here (the machine's
 * SDK is .NET 10), so it is a net10.0 app published self-contained against the 11.0.0 runtime pack
 * (Microsoft.NETCore.App.Runtime.linux-x64 11.0.0), which the 10 SDK restores and the app runs on.
 */
function runtimeFramework(framework: string | undefined): [string | undefined, string[]] {
  if (framework === "net11.0") return ["net10.0", ["RuntimeFrameworkVersion=11.0.0"]];
  return [framework, []];
}

/** A core dump of test/targets/hello on `framework` ("net11.0": see runtimeFramework). */
export function helloDump(type: DumpType = "full", framework?: string): DotnetDump {
  const [fw, props] = runtimeFramework(framework);
  return dotnetDump("hello", type, fw, props);
}

/**
 * A core dump of test/targets/scenarios (threads parked in known call chains, known objects);
 * `framework` ("net9.0", "net8.0", "net11.0") runs it self-contained on that runtime, as dotnetDump does.
 */
export function scenarioDump(type: DumpType = "full", framework?: string): DotnetDump<ScenarioTruth> {
  const [fw, props] = runtimeFramework(framework);
  const d = dotnetDump("scenarios", type, fw, props);
  return { ...d, truth: d.truth as unknown as ScenarioTruth };
}

/**
 * A core dump of test/targets/<target> run with extra environment variables (runtime knobs such
 * as DOTNET_TieredCompilation), cached like dotnetDump under a key that includes `env`. The truth
 * file's shape is the target's own (`T`); it must have `pid` and `libcoreclr` as every target's does.
 */
export function dotnetDumpWithEnv<T = Truth>(target: string, env: Record<string, string>, type: DumpType = "full"): DotnetDump<T> {
  const dll = buildDotnetTarget(target);
  const buildHash = path.basename(path.dirname(path.dirname(dll)));
  const envKey = Object.entries(env).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join("\n");
  const dir = cachedDir("dotnet-dump", [target, buildHash, type, envKey], (out) => captureDump(dll, type, out, { env }));
  return { core: path.join(dir, "core"), truth: JSON.parse(fs.readFileSync(path.join(dir, "truth.json"), "utf8")) as T, dll };
}

/**
 * A core dump of a running test target written by gdb's `gcore` instead of createdump: gdb
 * leaves out file-backed pages the process never wrote (ELF text, mapped PE assemblies), which
 * must then come from the files on disk. Cached like dotnetDump.
 */
export function gcoreDump(target = "hello"): DotnetDump {
  const dll = buildDotnetTarget(target);
  const buildHash = path.basename(path.dirname(path.dirname(dll)));
  const gdbVersion = run("gdb", ["--version"]).stdout.split("\n")[0] ?? "";
  const dir = cachedDir("dotnet-dump", [target, buildHash, "gcore", gdbVersion], (out) => {
    const app = startDotnetTarget(dll, out);
    try {
      const core = path.join(out, "core");
      const r = run("gdb", ["-p", String(app.pid), "-batch", "-nx", "-ex", `gcore ${core}`], { timeout: CREATEDUMP_TIMEOUT_MS });
      fs.writeFileSync(path.join(out, "gcore.log"), r.stdout + r.stderr);
      if (!fs.existsSync(core) || fs.statSync(core).size === 0) throw new Error(`gcore wrote no core:\n${r.stdout}${r.stderr}`);
    } finally {
      app.kill();
    }
  });
  return { core: path.join(dir, "core"), truth: JSON.parse(fs.readFileSync(path.join(dir, "truth.json"), "utf8")) as Truth, dll };
}
