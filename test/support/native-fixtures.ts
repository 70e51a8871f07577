// Native fixtures: the C programs of test/fixtures/native/ compiled at test time, run until they
// print READY (all threads parked in known call chains), then dumped with gcore. The result
// (exe + core) is cached in the test cache (native/), keyed by sources, flags and tool versions, so a
// warm run reuses the same core: tests must not assume the pid is still alive or fresh.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cachedDir, repoRoot, sleepSync } from "./cache.js";

/** Bumped when the build/dump procedure changes in a way the inputs do not capture. */
const HARNESS_VERSION = "native-fixtures v1";
const READY_TIMEOUT_MS = 20_000;

export const fixtureDir = join(repoRoot, "test", "fixtures", "native");
/** Compiled into every fixture: readiness handshake (see fixture.h). */
const SHARED_SOURCES = ["common.c", "fixture.h"];

const DEBUG = ["-O0", "-g"]; // frame pointers and .eh_frame, plus DWARF for readable gdb output
/** fixture name -> variant -> gcc flags. A variant is a (source, flags) pair. */
export const NATIVE_FIXTURES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  chains: {
    default: DEBUG,
    // No frame pointers: only .eh_frame CFI can unwind the program's frames.
    cfi: ["-O1", "-fomit-frame-pointer"],
    // No CFI for the program's own code (and no -g, which would emit .debug_frame instead):
    // only the rbp chain can unwind it.
    fp: ["-O0", "-fno-omit-frame-pointer", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables"],
  },
  signal: { default: DEBUG, cfi: ["-O2", "-fomit-frame-pointer"] },
  spin: { default: DEBUG, cfi: ["-O2", "-fomit-frame-pointer"] },
  deadlock: { default: DEBUG },
  many: { default: ["-O2", "-fomit-frame-pointer"] },
};

/**
 * Extra build steps for a fixture that is more than one program: shared libraries, split debug
 * info. The hook's code is part of the cache key (a changed build procedure rebuilds).
 */
export interface FixtureBuildHook {
  /** Files of test/fixtures/native/ the hook compiles (hashed into the cache key). */
  sources: readonly string[];
  /**
   * Runs in the fresh cache directory before the program is compiled; returns extra gcc
   * arguments for the program, placed after its sources (-L, -l, -Wl,-rpath, ...).
   */
  prepare(dir: string): string[];
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: "pipe" });
}

/** Build-id of an ELF file, as readelf (not clrscope) reads it. */
export function readelfBuildId(path: string): string {
  const m = /Build ID: ([0-9a-f]+)/.exec(run("readelf", ["-n", path]));
  if (!m) throw new Error(`${path} has no build-id`);
  return m[1]!;
}

/**
 * Fixtures built with a hook (name -> gcc flags of the program, and the hook). They are not in
 * NATIVE_FIXTURES, so nativeVariants() (the all-fixtures gdb comparison) leaves them out; their
 * tests call nativeCore(name) directly.
 */
export const HOOKED_FIXTURES: Readonly<Record<string, { flags: readonly string[]; hook: FixtureBuildHook }>> = {
  // worker_lib -> lib_outer -> lib_inner (static) -> pause(), inside libparked.so, which is
  // stripped (.dynsym only) with its debug info split into <dir>/symbols/.build-id/xx/yyyy.debug.
  // The debug file is deliberately not next to the library, so only --symbols <dir>/symbols finds it.
  splitdebug: {
    flags: DEBUG,
    hook: {
      sources: ["libparked.c"],
      prepare(dir) {
        const lib = join(dir, "lib");
        mkdirSync(lib);
        const so = join(lib, "libparked.so");
        run("gcc", ["-O0", "-g", "-fPIC", "-shared", "-Wall", "-Wl,--build-id=sha1", "-o", so, join(fixtureDir, "libparked.c")]);
        const split = join(dir, "split");
        mkdirSync(split);
        const debug = join(split, "libparked.so.debug");
        run("objcopy", ["--only-keep-debug", so, debug]);
        run("strip", ["--strip-all", so]);
        run("objcopy", [`--add-gnu-debuglink=${debug}`, so]);
        const id = readelfBuildId(so);
        const idDir = join(dir, "symbols", ".build-id", id.slice(0, 2));
        mkdirSync(idDir, { recursive: true });
        renameSync(debug, join(idDir, `${id.slice(2)}.debug`));
        rmdirSync(split);
        return [`-L${lib}`, "-lparked", `-Wl,-rpath,${lib}`];
      },
    },
  },
  // worker_gone -> gone_parked -> pause() in libgone.so, which the program dlopen()s from its own
  // directory and unlink()s before READY.
  deletedlib: {
    flags: DEBUG,
    hook: {
      sources: ["libgone.c"],
      prepare(dir) {
        run("gcc", ["-O0", "-g", "-fPIC", "-shared", "-Wall", "-o", join(dir, "libgone.so"), join(fixtureDir, "libgone.c")]);
        return ["-ldl"];
      },
    },
  },
};

/** Every (fixture, variant) pair, for tests that iterate over all of them. */
export function nativeVariants(): { name: string; variant: string }[] {
  return Object.entries(NATIVE_FIXTURES).flatMap(([name, vs]) => Object.keys(vs).map((variant) => ({ name, variant })));
}

export interface NativeCore {
  exe: string;
  core: string;
  /** pid of the dumped process (long dead on a warm cache). */
  pid: number;
  /** The cache directory holding exe, core and anything a build hook made. */
  dir: string;
}

let toolVersionsMemo: string | undefined;
/** gcc -v (full configuration) and gdb --version: a toolchain upgrade invalidates the cache. */
function toolVersions(): string {
  if (toolVersionsMemo === undefined) {
    const gcc = spawnSync("gcc", ["-v"], { encoding: "utf8" });
    const gdb = spawnSync("gdb", ["--version"], { encoding: "utf8" });
    if (gcc.status !== 0) throw new Error(`gcc not usable: ${gcc.error?.message ?? gcc.stderr}`);
    if (gdb.status !== 0) throw new Error(`gdb not usable: ${gdb.error?.message ?? gdb.stderr}`);
    toolVersionsMemo = gcc.stderr + gdb.stdout.split("\n")[0];
  }
  return toolVersionsMemo;
}

/** Process state letter from /proc, or null once it is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] ?? null;
  } catch {
    return null;
  }
}

/** Builds `name` with the variant's flags, runs it to READY, dumps it with gcore (cached). */
export function nativeCore(name: string, variant = "default"): NativeCore {
  const hooked = variant === "default" ? HOOKED_FIXTURES[name] : undefined;
  const flags = NATIVE_FIXTURES[name]?.[variant] ?? hooked?.flags;
  if (!flags) throw new Error(`unknown native fixture ${name}/${variant}`);
  const hook = NATIVE_FIXTURES[name] ? undefined : hooked?.hook;
  const sources = [`${name}.c`, ...SHARED_SOURCES];
  const inputs: (string | Buffer)[] = [HARNESS_VERSION, flags.join("\0"), toolVersions()];
  for (const s of [...sources, ...(hook?.sources ?? [])]) inputs.push(s, readFileSync(join(fixtureDir, s)));
  if (hook) inputs.push(hook.prepare.toString(), binutilsVersion());

  const dir = cachedDir("native", inputs, (dir) => {
    const exe = join(dir, name);
    const extra = hook ? hook.prepare(dir) : [];
    const cFiles = sources.filter((s) => s.endsWith(".c")).map((s) => join(fixtureDir, s));
    execFileSync("gcc", [...flags, "-Wall", "-pthread", "-o", exe, ...cFiles, ...extra], { stdio: "pipe" });
    dumpRunning(exe, dir);
  });
  const { pid } = JSON.parse(readFileSync(join(dir, "pid.json"), "utf8")) as { pid: number };
  return { exe: join(dir, name), core: join(dir, "core"), pid, dir };
}

/** objcopy/strip/readelf version, for fixtures whose build hook uses them. */
function binutilsVersion(): string {
  return run("objcopy", ["--version"]).split("\n")[0]!;
}

/** Runs exe until it prints READY, gcores it into <dir>/core, and always kills it. */
function dumpRunning(exe: string, dir: string): void {
  const outPath = join(dir, "stdout.txt");
  const errPath = join(dir, "stderr.txt");
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  // Output goes to files, not pipes: we wait synchronously, so nobody would drain a pipe.
  const child = spawn(exe, [], { stdio: ["ignore", out, err] });
  closeSync(out);
  closeSync(err);
  child.on("error", () => {}); // reported below as "exited before READY"
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${exe}`);
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!readFileSync(outPath, "utf8").includes("READY\n")) {
      const state = procState(pid);
      const why = state === null || state === "Z" ? "exited" : Date.now() > deadline ? "timed out" : null;
      if (why) throw new Error(`${exe} ${why} before READY; stderr: ${readFileSync(errPath, "utf8")}`);
      sleepSync(5);
    }
    // gdb stops every thread (including spinning ones) before writing the core.
    const log = execFileSync("gcore", ["-o", join(dir, "core"), String(pid)], {
      encoding: "utf8",
      stdio: "pipe",
      timeout: 120_000,
    });
    writeFileSync(join(dir, "gcore.log"), log);
    // gcore names the file <prefix>.<pid>; give it a stable name.
    const made = readdirSync(dir).find((f) => f === `core.${pid}`);
    if (!made) throw new Error(`gcore wrote no core.${pid} in ${dir}:\n${log}`);
    renameSync(join(dir, made), join(dir, "core"));
    writeFileSync(join(dir, "pid.json"), JSON.stringify({ pid }) + "\n");
  } finally {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
