// The DAC is native code: clrscope must never load one because a dump says where it is, and a
// DAC that crashes or hangs must cost one command, not the session. On real createdump dumps of
// test/targets/hello (.NET 10 on the machine's shared runtime; .NET 8 self-contained, whose DAC
// lies beside its own libcoreclr.so), read through altered-cli with patched bytes:
// - provenance: NT_FILE renamed to name a directory holding a planted libmscordaccore.so (with
//   the real DAC's version stamp, beside a copy of the real libcoreclr.so) whose constructor
//   creates a marker file: owned by nobody, under /tmp, relative, group-writable. Every command,
//   with every backend, must leave no marker and say why the DAC was not used.
// - isolation: DACs that crash or hang (gcc-built, named with --dac) and dumps whose damage
//   crashes the real DAC: the failing command fails with one line, the others run, the process
//   exits 1 and never by a signal, and the next need starts a new DAC host.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { cacheRoot, repoRoot } from "../support/cache.js";
import { resultOf, runAlteredCli, runCli, runCliJson, type CliRun } from "../support/cli.js";
import { dotnetDump, hasDotnet, type DotnetDump } from "../support/dotnet-fixtures.js";
import { fillMemory, renameInNotes, writeAlterations, type Patch } from "../support/dump-patches.js";
import { buildPlantedDac, faultyDac } from "../support/fake-dac.js";
import { X86_64_USER_REGS } from "../../src/dump/notes.js";
import { openCoreDump } from "../../src/native/process.js";
import { openContractsRuntime } from "../../src/runtime/open-runtime.js";
import { fileVersionStamp } from "../../src/runtime/dac/dac-provenance.js";
import { loadKoffi } from "../../src/runtime/dac/koffi.js";

const skip = !hasDotnet() ? "no dotnet SDK on PATH" : loadKoffi().error ?? false;
const bundledCli = join(repoRoot, "dist", "clrscope.js");
const NOBODY = 65534;


/** Ended by itself with exit code 1 (a command failed) or 0, never by a signal. */
function assertCleanEnd(r: CliRun, where: string): void {
  assert.equal(r.signal, null, `${where}: killed by ${r.signal}\n${r.stderr}`);
  assert.ok(r.status === 0 || r.status === 1, `${where}: exit ${r.status}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${where}: a stack trace\n${r.stderr}`);
}

function childrenOf(pid: number): { pid: number; args: string }[] {
  // ps exits 1 when there is none.
  return spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [p, ...args] = l.trim().split(/\s+/);
      return { pid: Number(p), args: args.join(" ") };
    });
}

/** Running, not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return false;
  }
}

/** A path exactly as long as `length`: `dir`/`filler`/libcoreclr.so (NT_FILE renames keep lengths). */
function sameLengthPath(dir: string, length: number): string {
  const fill = length - dir.length - "/".length - "/libcoreclr.so".length;
  assert.ok(fill >= 1, `${dir} is too long to plant a ${length}-character path`);
  return join(dir, `p${process.pid}`.padEnd(fill, "x").slice(0, fill), "libcoreclr.so");
}

interface Plant {
  label: string;
  /** The libcoreclr.so path the dump will name. */
  recorded: string;
  /** The directory the CLI runs in (for the relative path). */
  cwd?: string;
  /** What the output must say about the dump's runtime directory. */
  why: RegExp;
}

/** A directory shaped like a self-contained app's: a copy of the real libcoreclr.so (same build-id) and a planted DAC. */
function plantDirectory(dir: string, runtime: string, marker: string, stamp: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(runtime, join(dir, "libcoreclr.so"));
  buildPlantedDac(join(dir, "libmscordaccore.so"), marker, stamp);
}

const DUMPS: { label: string; dump: () => DotnetDump; hasInstall: boolean }[] = [
  { label: ".NET 10 (the machine's shared runtime)", dump: () => dotnetDump("hello", "full"), hasInstall: true },
  { label: ".NET 8 self-contained (no install of that build here)", dump: () => dotnetDump("hello", "full", "net8.0"), hasInstall: false },
];

for (const { label, dump, hasInstall } of DUMPS) {
  describe(`a planted DAC is never loaded: ${label}`, { skip, timeout: 1_800_000 }, () => {
    let d: DotnetDump;
    let work: string;
    let marker: string;
    let stamp: string;
    let commands: string[];
    const plants: Plant[] = [];
    const cleanUp: string[] = [];

    before(() => {
      d = dump();
      work = mkdtempSync(join(tmpdir(), "clrscope-planted-"));
      marker = join(work, "planted-dac-was-loaded");
      const realDac = join(dirname(d.truth.libcoreclr), "libmscordaccore.so");
      stamp = fileVersionStamp(realDac)!;
      assert.ok(stamp, `${realDac} has a version stamp`);
      const length = d.truth.libcoreclr.length;
      // Beside the test cache (owned by root, 0755 all the way up): only the planted directory's own flaw can keep it out.
      const trustedBase = join(cacheRoot, "pd");
      mkdirSync(trustedBase, { recursive: true });

      const nobody = sameLengthPath(join(trustedBase, "n"), length);
      plantDirectory(dirname(nobody), d.truth.libcoreclr, marker, stamp);
      for (const f of [dirname(nobody), nobody, join(dirname(nobody), "libmscordaccore.so")]) chownSync(f, NOBODY, NOBODY);
      plants.push({ label: "an absolute path in a directory owned by nobody", recorded: nobody, why: /owned by another user \(uid 65534\)/ });

      const tmpDir = mkdtempSync("/tmp/pd-");
      cleanUp.push(tmpDir);
      const tmp = sameLengthPath(tmpDir, length);
      plantDirectory(dirname(tmp), d.truth.libcoreclr, marker, stamp);
      plants.push({ label: "a path under /tmp", recorded: tmp, why: /\/tmp is writable by everyone/ });

      const relative = `p${process.pid}`.padEnd(length - "/libcoreclr.so".length, "x") + "/libcoreclr.so";
      const cwd = join(work, "cwd");
      plantDirectory(join(cwd, dirname(relative)), d.truth.libcoreclr, marker, stamp);
      plants.push({ label: "a relative path", recorded: relative, cwd, why: /relative path/ });

      const groupWritable = sameLengthPath(join(trustedBase, "g"), length);
      plantDirectory(dirname(groupWritable), d.truth.libcoreclr, marker, stamp);
      chmodSync(dirname(groupWritable), 0o775);
      plants.push({ label: "a self-contained app's directory, group-writable", recorded: groupWritable, why: /writable by its group/ });

      // Addresses for the commands, from the intact dump.
      const o = d.truth.objects;
      const stack = resultOf(runCliJson(d.core, ["clrstack"]).docs, "clrstack") as { threads: { frames: { kind: string; ip: string }[] }[] };
      const ip = stack.threads[0]!.frames.find((f) => f.kind === "managed")!.ip;
      commands = [
        "runtime",
        "clrstack",
        "clrstack -a",
        `do ${o.fields.address}`,
        `dumpmd ${d.truth.methodDescs["Hello.Program.Main"]}`,
        `ip2md ${ip}`,
        `pe ${o.exception.address}`,
        "clrthreads",
        `dumpmt -md ${d.truth.methodTables["Hello.Program"]}`,
        "pstacks",
        "bt",
        "clrmodules",
      ];
    });

    after(() => {
      for (const dir of [...plants.map((p) => p.cwd ?? dirname(p.recorded)), ...cleanUp]) rmSync(dir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    });

    test("control: the planted library named with --dac is loaded and leaves its marker (the marker works)", () => {
      const planted = join(dirname(plants[3]!.recorded), "libmscordaccore.so");
      const r = runCli(["analyze", d.core, "--dac", planted, "-c", "runtime"]);
      assertCleanEnd(r, "--dac planted");
      assert.ok(existsSync(marker), "the planted DAC's constructor ran");
      rmSync(marker);
    });

    for (const [i, name] of ["nobody", "tmp", "relative", "group-writable"].entries()) {
      for (const backend of ["auto", "contracts", "dac"]) {
        test(`${name}: every command with --backend ${backend} leaves no marker and says why`, () => {
          const p = plants[i]!;
          const alterations = writeAlterations(work, `${name}-${backend}`, renameInNotes(d.core, d.truth.libcoreclr, p.recorded));
          const r = runAlteredCli(alterations, ["analyze", d.core, "--backend", backend, ...commands.flatMap((c) => ["-c", c])], { cwd: p.cwd });
          assertCleanEnd(r, p.label);
          assert.ok(!existsSync(marker), `${p.label}, --backend ${backend}: the planted DAC was loaded\n${r.stdout}\n${r.stderr}`);
          const out = r.stdout + r.stderr;
          if (backend === "contracts") {
            // --backend contracts never looks for a DAC: it says so, and nothing about the planted one.
            assert.match(out, hasInstall ? /Backend: dac not active: --backend contracts disables the DAC/ : /exports no DotNetRuntimeContractDescriptor/);
            return;
          }
          assert.match(out, p.why, `${p.label}: says why the dump's DAC was not used`);
          if (hasInstall) {
            assert.match(out, /Backend: dac \(\/\S+\/shared\/Microsoft\.NETCore\.App\/[^/]+\/libmscordaccore\.so, from this machine's \.NET install/, "the install's DAC of the same build is used");
          } else {
            assert.match(out, /the DAC was not used: .*pass --dac PATH/, "says how to name a DAC");
          }
        });
      }
    }
  });
}

describe("DAC host failures: a DAC that crashes or hangs costs one command", { skip, timeout: 900_000 }, () => {
  let d: DotnetDump;
  before(() => {
    d = dotnetDump("hello", "full");
  });

  test("a DAC crashing in every call: the command fails with one line, the next runs, the DAC host restarts on the next need", () => {
    const dac = faultyDac("crash-in-calls");
    const r = runCli(["analyze", d.core, "--dac", dac, "--backend", "dac", "-c", "clrthreads", "-c", "thread list", "-c", "clrthreads", "-c", "status"]);
    assertCleanEnd(r, "crash-in-calls");
    assert.equal(r.status, 1);
    const crashes = r.stderr.split("\n").filter((l) => l.includes("the DAC crashed (SIGSEGV) while answering threadStoreData()"));
    assert.equal(crashes.length, 2, `each clrthreads fails alone (the host restarted for the second)\n${r.stderr}`);
    assert.match(crashes[0]!, /^clrscope: the DAC crashed \(SIGSEGV\) while answering threadStoreData\(\); it restarts on the next command that needs it; answers from the data contracts still work$/);
    assert.match(r.stdout, /thread #1: tid = /, "thread list ran");
    assert.match(r.stdout, /process 'dotnet' pid /, "status ran after");
  });

  test("a DAC crashing while loading: the DAC backend is not active, the contracts answer", () => {
    const r = runCli(["analyze", d.core, "--dac", faultyDac("crash-in-create"), "-c", "runtime", "-c", "clrthreads"]);
    assertCleanEnd(r, "crash-in-create");
    assert.match(r.stdout, /Backend: dac not active: the DAC crashed \(SIGSEGV\) while loading/);
    assert.match(r.stdout, /ThreadCount:/, "clrthreads answered from the data contracts");
  });

  test("a DAC that never answers: the call times out (CLRSCOPE_DAC_TIMEOUT), the batch goes on", () => {
    const r = runCli(["analyze", d.core, "--dac", faultyDac("hang-in-calls"), "--backend", "dac", "-c", "clrthreads", "-c", "thread list"], {
      env: { ...process.env, CLRSCOPE_DAC_TIMEOUT: "2" },
      timeout: 60_000,
    });
    assertCleanEnd(r, "hang-in-calls");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^clrscope: the DAC did not answer threadStoreData\(\) within 2 s \(stopped it\); it restarts on the next command that needs it/m);
    assert.match(r.stdout, /thread #1: tid = /, "thread list ran");
  });

  test("the bundled bin starts the DAC host too (dist/dac-host.js)", () => {
    const r = runCli(["analyze", d.core, "-c", "runtime", "-c", "clrstack -a"], { script: bundledCli });
    assertCleanEnd(r, "bundled");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Backend: dac \(.*in a host process\)/);
    assert.match(r.stdout, /PARAMETERS:\n\s+millisecondsTimeout = /, "parameters came from the DAC");
  });

  test("a DAC host stuck in the DAC dies with a CLI killed by SIGKILL (no orphan)", async () => {
    const cli = spawn(process.execPath, [join(repoRoot, "dist", "src", "cli", "bin.js"), "analyze", d.core, "--dac", faultyDac("hang-in-calls"), "--backend", "dac", "-c", "clrthreads"], { stdio: "ignore" });
    const hostOf = () => childrenOf(cli.pid!).find((c) => c.args.includes("dac-host.js"));
    let host: { pid: number } | undefined;
    for (let i = 0; i < 300 && !host; i++) {
      await delay(100);
      host = hostOf();
    }
    assert.ok(host, "the CLI started a DAC host");
    await delay(500); // the host is now inside the hanging call
    cli.kill("SIGKILL");
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await delay(100);
      alive = isRunning(host.pid);
    }
    assert.equal(alive, false, `DAC host ${host.pid} outlived its CLI`);
  });

  test("no DAC host outlives the CLI", () => {
    const r = runCli(["analyze", d.core, "-c", "runtime"]);
    assert.equal(r.status, 0, r.stderr);
    const hosts = execFileSync("ps", ["-eo", "pid,ppid,args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes("dac-host.js") && l.includes(repoRoot));
    // Hosts of concurrently running tests have a live parent; an orphan's parent is 1.
    assert.deepEqual(hosts.filter((l) => l.trim().split(/\s+/)[1] === "1"), []);
  });
});

describe("damaged dumps that crash the DAC: every command of the batch runs", { skip, timeout: 900_000 }, () => {
  let d: DotnetDump;
  let work: string;
  const damage = new Map<string, Patch[]>();

  before(() => {
    d = dotnetDump("hello", "full");
    work = mkdtempSync(join(tmpdir(), "clrscope-damaged-"));
    const p = openCoreDump(d.core);
    try {
      const page = (a: number) => a - (a % 4096);
      const rsp = Number(p.threads[0]!.core.status.regs[X86_64_USER_REGS.indexOf("rsp")]);
      damage.set("stack", fillMemory(d.core, page(rsp), 64 * 1024));
      damage.set("methodtable", fillMemory(d.core, page(Number(d.truth.methodTables["Hello.Program"])), 4096));
      // System.String's MethodTable page: the data contracts read past it, the DAC's stack walk crashes on it.
      damage.set("string-methodtable", fillMemory(d.core, page(Number(d.truth.methodTables["System.String"])), 4096));
      const storeGlobal = openContractsRuntime(p).describe().globals.find((g) => g.name === "ThreadStore")!;
      const pointer = p.memory.tryRead(Number(storeGlobal.value), 8)!;
      const store = Number(new DataView(pointer.buffer, pointer.byteOffset, 8).getBigUint64(0, true));
      damage.set("threadstore", fillMemory(d.core, store, 256, 0xff));
    } finally {
      p.close();
    }
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  const CASES = [
    { name: "stack", label: "zeroed stack pages of the main thread: clrstack", args: ["-c", "clrstack"], dacCrash: /the DAC crashed \(SIGSEGV\) while answering stackWalk\(0x[0-9a-f]+, …\)/ },
    // --backend contracts never starts the DAC: the contracts' walk answers alone, nothing crashes.
    { name: "stack", label: "zeroed stack pages of the main thread: clrstack --backend contracts", args: ["--backend", "contracts", "-c", "clrstack"], dacCrash: undefined, noDac: true },
    { name: "methodtable", label: "a zeroed MethodTable page (Hello.Program's): clrstack -all -a", args: ["-c", "clrstack -all -a"], dacCrash: undefined },
    { name: "string-methodtable", label: "a zeroed MethodTable page (System.String's): clrstack -all -a", args: ["-c", "clrstack -all -a"], dacCrash: /the DAC crashed \(SIGSEGV\) while answering stackWalk/ },
    { name: "threadstore", label: "a corrupted ThreadStore: clrthreads --backend dac", args: ["--backend", "dac", "-c", "clrthreads"], dacCrash: /^clrscope: the DAC crashed \(SIGSEGV\) while answering threadStoreData\(\); it restarts/m },
  ];
  for (const c of CASES) {
    test(c.label, () => {
      const alterations = writeAlterations(work, c.name, damage.get(c.name)!);
      const r = runAlteredCli(alterations, ["analyze", d.core, ...c.args, "-c", "thread list"]);
      assertCleanEnd(r, c.label);
      if (c.dacCrash) assert.match(r.stdout + r.stderr, c.dacCrash);
      if ("noDac" in c) assert.doesNotMatch(r.stdout + r.stderr, /DAC crashed/);
      const failures = r.stderr.split("\n").filter((l) => l.startsWith("clrscope: "));
      assert.ok(failures.length <= 1, `at most one failing line\n${r.stderr}`);
      assert.equal(r.status, failures.length === 0 ? 0 : 1, r.stderr);
      assert.match(r.stdout, /thread #1: tid = /, "the command after it ran");
    });
  }
});
