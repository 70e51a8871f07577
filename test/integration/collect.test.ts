// `clrscope ps` and `clrscope collect` against a live test/targets/hello, over the runtime's
// diagnostics IPC protocol. Oracles: the process itself (/proc/PID/cmdline, /proc/PID/exe, the
// version folder of the libcoreclr.so in /proc/PID/maps) and its truth file (OS thread ids,
// managed ids), which our code did not produce. Each dump type is collected once, opened with
// `analyze` and deleted. The usual failures (dead pid, non-.NET pid, another user's process,
// socket path too long) must each be one line on stderr and exit code 6.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ExitCode } from "../../src/errors.js";
import { cliPath, resultOf, runCli, runCliJson, type CliRun } from "../support/cli.js";
import { buildDotnetTarget, hasDotnet, startDotnetTarget, type RunningTarget } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";
const CLI_TIMEOUT_MS = 120_000;

function show(r: CliRun): string {
  return `status ${r.status}${r.signal ? ` (signal ${r.signal})` : ""}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout.slice(0, 2000)}`;
}

/** Exit 6, nothing on stdout, exactly one `clrscope: ...` line on stderr matching `pattern`. */
function expectOneLineFailure(r: CliRun, pattern: RegExp): void {
  assert.equal(r.error, undefined, `could not run the CLI: ${r.error?.message}`);
  assert.equal(r.status, ExitCode.cannotAttach, show(r));
  assert.equal(r.stdout, "", show(r));
  assert.match(r.stderr, /^clrscope: [^\n]+\n$/, show(r));
  assert.match(r.stderr, pattern, show(r));
}

/** The runtime version as the loaded libcoreclr.so's folder names it (.../Microsoft.NETCore.App/<version>/libcoreclr.so). */
function loadedRuntimeVersion(pid: number): string {
  const line = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").find((l) => l.endsWith("/libcoreclr.so"));
  assert.ok(line, "libcoreclr.so is not mapped");
  return basename(dirname(line.slice(line.indexOf("/"))));
}

interface PsRow {
  pid: number;
  name: string;
  commandLine: string | null;
  runtimeVersion: string | null;
  runtimeIdentifier: string | null;
  entryAssembly: string | null;
  error: { code: string; message: string } | null;
}

describe("ps and collect on a live .NET process", { skip, timeout: 900_000 }, () => {
  let app: RunningTarget;
  let dir: string;
  before(() => {
    const dll = buildDotnetTarget("hello");
    dir = mkdtempSync(join(tmpdir(), "clrscope-collect-"));
    chmodSync(dir, 0o755);
    app = startDotnetTarget(dll, dir);
  });
  after(() => {
    app?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("ps lists it: pid, command line, runtime version and RID as the process itself shows them", () => {
    const r = runCli(["ps", "--json"], { timeout: CLI_TIMEOUT_MS });
    assert.equal(r.status, 0, show(r));
    const rows = (JSON.parse(r.stdout) as { command: string; result: { processes: PsRow[] } }).result.processes;
    const row = rows.find((p) => p.pid === app.pid);
    assert.ok(row, `pid ${app.pid} not in ps: ${r.stdout}`);
    assert.equal(row.error, null);
    assert.equal(row.name, readFileSync(`/proc/${app.pid}/comm`, "utf8").trim());
    // The runtime reports the host's full path as argv[0] and the arguments as given.
    const argv = readFileSync(`/proc/${app.pid}/cmdline`, "utf8").split("\0").slice(0, -1);
    const exe = realpathSync(`/proc/${app.pid}/exe`);
    assert.ok(row.commandLine, "no command line");
    const [first, ...rest] = row.commandLine.split(" ");
    assert.equal(realpathSync(first!), exe, "argv[0] is the process's executable");
    assert.deepEqual(rest, argv.slice(1), "arguments as in /proc/PID/cmdline");
    assert.equal(row.runtimeVersion, loadedRuntimeVersion(app.pid));
    assert.equal(row.runtimeVersion, app.truth.runtimeVersion);
    assert.equal(row.runtimeIdentifier, `linux-${process.arch}`);
    assert.equal(row.entryAssembly, "hello");

    const text = runCli(["ps"], { timeout: CLI_TIMEOUT_MS });
    assert.equal(text.status, 0, show(text));
    assert.match(text.stdout, /^\s*PID\s+NAME\s+RUNTIME\s+RID\s+COMMAND LINE$/m);
    assert.match(text.stdout, new RegExp(`^\\s*${app.pid}\\s+dotnet\\s+${row.runtimeVersion!.replace(/\./g, "\\.")}\\s+linux-`, "m"));
  });

  for (const type of ["full", "heap", "mini", "triage"] as const) {
    test(`collect --type ${type}: the dump opens with the app's threads`, () => {
      const file = join(dir, `${type}.core`);
      const liveBefore = readdirTids(app.pid);
      const r = runCli(["collect", "-p", String(app.pid), "--type", type, "-o", file, "--json"], { timeout: CLI_TIMEOUT_MS });
      try {
        assert.equal(r.status, 0, show(r));
        assert.equal(r.stderr, "", "no progress output when stderr is not a TTY");
        const result = (JSON.parse(r.stdout) as { command: string; result: { pid: number; type: string; path: string; bytes: number; threads: number; liveThreads: number } }).result;
        assert.equal(result.pid, app.pid);
        assert.equal(result.type, type);
        assert.equal(result.path, file);
        assert.ok(existsSync(file));

        const { docs, status, stderr } = runCliJson(file, ["thread list", ...(type === "full" ? ["clrthreads"] : [])]);
        assert.equal(status, 0, stderr);
        const open = resultOf<{ pid: number; threads: number; runtime: { version: string } | null }>(docs, "open");
        assert.equal(open.pid, app.pid);
        assert.equal(open.runtime?.version, app.truth.runtimeVersion);
        assert.equal(result.threads, open.threads);
        const tids = resultOf<{ threads: { tid: number }[] }>(docs, "thread list").threads.map((t) => t.tid);
        for (const th of app.truth.threads) assert.ok(tids.includes(th.osTid), `${type}: truth thread ${th.role} (tid ${th.osTid}) missing from ${tids}`);
        // Every thread alive before and after the collection is in the dump.
        const liveAfter = new Set(readdirTids(app.pid));
        for (const tid of liveBefore.filter((x) => liveAfter.has(x))) assert.ok(tids.includes(tid), `${type}: live thread ${tid} missing from the dump (${tids})`);
        if (type === "full") {
          const ct = resultOf<{ threads: { osId: number; managedId: number }[] }>(docs, "clrthreads");
          for (const th of app.truth.threads) {
            const t = ct.threads.find((x) => x.osId === th.osTid);
            assert.ok(t, `clrthreads lacks ${th.role} (tid ${th.osTid})`);
            assert.equal(t.managedId, th.managedId, `${th.role}: managed id`);
          }
        }
      } finally {
        rmSync(file, { force: true });
      }
    });
  }

  test("collect -n NAME: the process by its entry assembly (or, with several, a list of their pids)", () => {
    const file = join(dir, "by-name.core");
    const r = runCli(["collect", "-n", "hello", "--type", "mini", "-o", file, "--json"], { timeout: CLI_TIMEOUT_MS });
    rmSync(file, { force: true });
    // Other test files may start and stop their own hello at any moment (fixture builds run in
    // parallel), so which case applies is known only from the answer: our app alone, or a list
    // of the candidates that includes it.
    if (r.status === 0) {
      assert.equal((JSON.parse(r.stdout) as { result: { pid: number } }).result.pid, app.pid, show(r));
    } else {
      expectOneLineFailure(r, new RegExp(`\\.NET processes named hello \\(pids [^)]*\\b${app.pid}\\b[^)]*\\): choose one with -p`));
    }
  });

  test("collect --diag --crashreport: one line per file; createdump logs on the target's console; the report lists its threads", () => {
    const file = join(dir, "text.core");
    const report = `${file}.crashreport.json`;
    const logBefore = readFileSync(join(dir, "app.log"), "utf8").length;
    const r = runCli(["collect", "-p", String(app.pid), "--type", "mini", "-o", file, "--diag", "--crashreport"], { timeout: CLI_TIMEOUT_MS });
    try {
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout, `${r.stdout.split("\n")[0]}\nCrash report: ${report}\n`);
      assert.match(r.stdout, new RegExp(`^Wrote mini dump of process ${app.pid} \\(dotnet\\) to ${file.replace(/[.]/g, "\\.")}: [\\d.]+ [KMG]?B, \\d+ threads, [\\d.]+ s\\n`));
      assert.match(readFileSync(join(dir, "app.log"), "utf8").slice(logBefore), /\[createdump\]/, "--diag: createdump's log on the target's output");
      const threads = (JSON.parse(readFileSync(report, "utf8")) as { payload: { threads: { native_thread_id: string }[] } }).payload.threads.map((t) => Number(t.native_thread_id));
      for (const th of app.truth.threads) assert.ok(threads.includes(th.osTid), `crash report lacks ${th.role} (tid ${th.osTid})`);
    } finally {
      rmSync(file, { force: true });
      rmSync(report, { force: true });
    }
  });

  test("an output path the runtime cannot write: its HRESULT and createdump's message, in one line, exit 7", () => {
    const r = runCli(["collect", "-p", String(app.pid), "-o", join(dir, "no-such-dir", "x.core")], { timeout: CLI_TIMEOUT_MS });
    assert.equal(r.status, ExitCode.collectFailed, show(r));
    assert.equal(r.stdout, "", show(r));
    assert.match(r.stderr, /^clrscope: writing the dump of process \d+ \(dotnet\) failed: the runtime answered HRESULT 0x[0-9a-f]{8}[^\n]*no-such-dir[^\n]*\n$/, show(r));
  });

  test("another user's process: permission denied, with what to do", (t) => {
    if (process.getuid?.() !== 0) {
      t.skip("not root: cannot run the CLI as another user");
      return;
    }
    const nobody = { uid: 65534, gid: 65534 };
    if (spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(cliPath)})`], { ...nobody, stdio: "ignore" }).status !== 0) {
      t.skip("cannot run the CLI as nobody (the repository is not readable by it)");
      return;
    }
    const r = runCli(["collect", "-p", String(app.pid), "-o", join(tmpdir(), "clrscope-nobody.core")], { timeout: CLI_TIMEOUT_MS, ...nobody });
    expectOneLineFailure(r, /permission denied.*same user as the process \(uid 0\) or as root.*CAP_SYS_PTRACE/);
  });
});

function readdirTids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number);
}

describe("collect refuses what it cannot dump, in one line", { timeout: 120_000 }, () => {
  test("a pid that no process has", () => {
    const gone = spawnSync("true");
    assert.ok(gone.pid > 0);
    assert.ok(!existsSync(`/proc/${gone.pid}`), "the pid was reused already");
    expectOneLineFailure(runCli(["collect", "-p", String(gone.pid)], { timeout: CLI_TIMEOUT_MS }), new RegExp(`no process with pid ${gone.pid} is running`));
  });

  test("a process that is not .NET", () => {
    const sleeper: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      assert.ok(sleeper.pid);
      expectOneLineFailure(runCli(["collect", "-p", String(sleeper.pid)], { timeout: CLI_TIMEOUT_MS }), new RegExp(`process ${sleeper.pid} \\(sleep\\) is not a \\.NET process`));
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  test("an unknown name", () => {
    expectOneLineFailure(runCli(["collect", "-n", "no-such-app-name"], { timeout: CLI_TIMEOUT_MS }), /no \.NET process named no-such-app-name/);
  });

  test("a bad command line: exit 2", () => {
    for (const args of [["collect"], ["collect", "-p", "abc"], ["collect", "-p", "1", "--type", "huge"], ["collect", "-p", "1", "-n", "x"], ["ps", "extra"]]) {
      const r = runCli(args, { timeout: CLI_TIMEOUT_MS });
      assert.equal(r.status, ExitCode.usage, `${args.join(" ")}\n${show(r)}`);
      assert.match(r.stderr, /^clrscope: [^\n]+\n$/);
    }
  });
});

describe("a .NET process whose socket path would be too long", { skip, timeout: 300_000 }, () => {
  test("collect says so and what to do", () => {
    const dll = buildDotnetTarget("hello");
    const base = mkdtempSync(join(tmpdir(), "clrscope-longtmp-"));
    // Long enough that TMPDIR/dotnet-diagnostic-PID-KEY-socket exceeds sun_path (108 bytes).
    const longTmp = join(base, "t".repeat(Math.max(1, 100 - base.length)));
    mkdirSync(longTmp);
    const app = startDotnetTarget(dll, base, { env: { TMPDIR: longTmp } });
    try {
      expectOneLineFailure(runCli(["collect", "-p", String(app.pid)], { timeout: CLI_TIMEOUT_MS }), /over the 107-byte limit.*shorter TMPDIR/);
    } finally {
      app.kill();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
