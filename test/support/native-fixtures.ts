// Native fixtures: the C programs of test/fixtures/native/ compiled at test time, run until they
// print READY (all threads parked in known call chains), then dumped with gcore. The result
// (exe + core) is cached under .cache/native/, keyed by sources, flags and tool versions, so a
// warm run reuses the same core: tests must not assume the pid is still alive or fresh.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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

/** Every (fixture, variant) pair, for tests that iterate over all of them. */
export function nativeVariants(): { name: string; variant: string }[] {
  return Object.entries(NATIVE_FIXTURES).flatMap(([name, vs]) => Object.keys(vs).map((variant) => ({ name, variant })));
}

export interface NativeCore {
  exe: string;
  core: string;
  /** pid of the dumped process (long dead on a warm cache). */
  pid: number;
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
  const flags = NATIVE_FIXTURES[name]?.[variant];
  if (!flags) throw new Error(`unknown native fixture ${name}/${variant}`);
  const sources = [`${name}.c`, ...SHARED_SOURCES];
  const inputs: (string | Buffer)[] = [HARNESS_VERSION, flags.join("\0"), toolVersions()];
  for (const s of sources) inputs.push(s, readFileSync(join(fixtureDir, s)));

  const dir = cachedDir("native", inputs, (dir) => {
    const exe = join(dir, name);
    const cFiles = sources.filter((s) => s.endsWith(".c")).map((s) => join(fixtureDir, s));
    execFileSync("gcc", [...flags, "-Wall", "-pthread", "-o", exe, ...cFiles], { stdio: "pipe" });
    dumpRunning(exe, dir);
  });
  const { pid } = JSON.parse(readFileSync(join(dir, "pid.json"), "utf8")) as { pid: number };
  return { exe: join(dir, name), core: join(dir, "core"), pid };
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
