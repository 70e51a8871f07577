// `clrscope ps` and `clrscope collect` against a live test/targets/hello, over the runtime's
// diagnostics IPC protocol. Oracles: the process itself (/proc/PID/cmdline, /proc/PID/exe, the
// version folder of the libcoreclr.so in /proc/PID/maps) and its truth file (OS thread ids,
// managed ids), which our code did not produce. Each dump type is collected once, opened with
// `analyze` and deleted. The usual failures (dead pid, non-.NET pid, another user's process,
// socket path too long) must each be one line on stderr and exit code 6.
//
// Spoofing: a fake diagnostics server run as another user (nobody) plants sockets in the live
// app's TMPDIR (a sticky, world-writable directory, as /tmp): dsrouter's name for the app, the
// runtime's exact name for root processes that have no socket, a symlink. ps and collect must
// never connect to them, and say why each was ignored. The same server, as a fake .NET process
// of nobody's (its socket named for its own pid), drives collect's result checks, stall timeout
// and SIGINT deterministically.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, lstatSync, symlinkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ExitCode } from "../../src/errors.js";
import { cliPath, resultOf, runCli, runCliJson, type CliRun } from "../support/cli.js";
import { buildDotnetTarget, hasDotnet, startDotnetTarget, type RunningTarget } from "../support/dotnet-fixtures.js";
import { okReply, processInfo3Payload, startForeignServer, type ForeignServer, type ForeignServerConfig } from "../support/fake-diagnostics.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";
const NOBODY = { uid: 65534, gid: 65534 };
const notRoot = process.getuid?.() === 0 ? false : "not root: cannot run a server as another user";
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
  let appTmp: string;
  before(() => {
    const dll = buildDotnetTarget("hello");
    dir = mkdtempSync(join(tmpdir(), "clrscope-collect-"));
    chmodSync(dir, 0o755);
    // The app's TMPDIR is shared with other users, as /tmp is: anyone can plant a socket there.
    appTmp = join(dir, "tmp");
    mkdirSync(appTmp);
    chmodSync(appTmp, 0o1777);
    app = startDotnetTarget(dll, dir, { env: { TMPDIR: appTmp } });
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

  test("a fake server run as nobody beside the app (dsrouter's name, the exact name of root processes, a symlink) is never used; ps -v says why", { skip: notRoot }, async () => {
    // Two root processes with no socket, whose TMPDIR is the app's: the planted exact names are theirs.
    const sleepers = [0, 1].map(() => spawn("sleep", ["300"], { env: { ...process.env, TMPDIR: appTmp }, stdio: "ignore" }));
    let server: ForeignServer | undefined;
    try {
      const [s1, s2] = sleepers.map((c) => c.pid!);
      const dsrouter = join(appTmp, `dotnet-diagnostic-dsrouter-${app.pid}-${startTicks(app.pid)}-socket`);
      const exact = join(appTmp, `dotnet-diagnostic-${s1}-${startTicks(s1!)}-socket`);
      const link = join(appTmp, `dotnet-diagnostic-${s2}-${startTicks(s2!)}-socket`);
      const evil = { pid: app.pid, cookie: Buffer.alloc(16), commandLine: "\x1b]0;pwned\x07\x1b[31mEVIL", os: "Linux", arch: "x64", entryAssembly: "hello", clrVersion: "10.0.99", rid: "linux-x64" };
      server = await startForeignServer({ sockets: [dsrouter, exact], symlinks: [[link, exact]], replies: { "4": okReply(processInfo3Payload(evil)).toString("hex"), "1": okReply().toString("hex") } }, NOBODY);

      const json = await runCliAsync(["ps", "--json"]);
      assert.equal(json.status, 0, show(json));
      const result = (JSON.parse(json.stdout) as { result: { processes: (PsRow & { ignoredSockets: Ignored[] })[]; ignored: { pid: number; ignoredSockets: Ignored[] }[] } }).result;
      const row = result.processes.find((p) => p.pid === app.pid);
      assert.ok(row, show(json));
      assert.doesNotMatch(row.commandLine ?? "", /EVIL/, "the runtime's answer, not the planted server's");
      assert.notEqual(row.runtimeVersion, "10.0.99");
      assert.deepEqual(row.ignoredSockets.map((i) => [i.path, i.reason]), [[dsrouter, "not-runtime-name"]]);
      assert.ok(!result.processes.some((p) => p.pid === s1 || p.pid === s2), "root processes with only planted sockets are not .NET processes");
      const ignoredOf = (pid: number) => result.ignored.find((p) => p.pid === pid)?.ignoredSockets.map((i) => [i.path, i.reason]);
      assert.deepEqual(ignoredOf(s1!), [[exact, "wrong-owner"]]);
      assert.deepEqual(ignoredOf(s2!), [[link, "symlink"]]);

      const text = await runCliAsync(["ps", "-v"]);
      assert.equal(text.status, 0, show(text));
      assert.doesNotMatch(text.stdout, /EVIL|\x1b/);
      assert.ok(text.stdout.includes(`ignored ${dsrouter}: not the runtime's socket name`), show(text));
      assert.ok(text.stdout.includes(`ignored ${exact}: owned by uid 65534, not by the process's uid 0`), show(text));
      assert.ok(text.stdout.includes(`ignored ${link}: a symbolic link, not the runtime's socket`), show(text));
      assert.doesNotMatch(runCli(["ps"], { timeout: CLI_TIMEOUT_MS }).stdout, /ignored/, "without -v, no ignored lines");

      for (const [pid, why] of [[s1!, `${exact} \\(owned by uid 65534, not by the process's uid 0\\)`], [s2!, `${link} \\(a symbolic link`]] as const) {
        const r = await runCliAsync(["collect", "-p", String(pid), "-o", join(dir, `planted-${pid}.core`)]);
        expectOneLineFailure(r, new RegExp(`process ${pid} \\(sleep\\) is not a \\.NET process .*ignored: ${why}`));
      }
      const file = join(dir, "beside-planted.core");
      const r = await runCliAsync(["collect", "-p", String(app.pid), "--type", "mini", "-o", file, "--json"]);
      rmSync(file, { force: true });
      assert.equal(r.status, 0, show(r));
      assert.deepEqual(server.requests, [], "the planted server was never asked anything");
    } finally {
      server?.kill();
      for (const c of sleepers) c.kill("SIGKILL");
    }
  });

  test("collect --overwrite replaces a regular file with the dump; without it, an existing file and a symlink are refused untouched (exit 2)", () => {
    const file = join(dir, "overwrite.core");
    writeFileSync(file, "old");
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "victim");
    const link = join(dir, "link.core");
    symlinkSync(victim, link);
    try {
      for (const args of [["-o", file], ["-o", link], ["-o", link, "--overwrite"]]) {
        const r = runCli(["collect", "-p", String(app.pid), "--type", "mini", ...args], { timeout: CLI_TIMEOUT_MS });
        assert.equal(r.status, ExitCode.usage, show(r));
        assert.match(r.stderr, /^clrscope: the output path \S+ (exists: choose another -o path, or --overwrite to replace it|is a symbolic link: clrscope never writes through one; choose another -o path)\n$/, show(r));
      }
      assert.equal(readFileSync(file, "utf8"), "old");
      assert.equal(readFileSync(victim, "utf8"), "victim");
      assert.ok(lstatSync(link).isSymbolicLink());
      const r = runCli(["collect", "-p", String(app.pid), "--type", "mini", "-o", file, "--overwrite", "--json"], { timeout: CLI_TIMEOUT_MS });
      assert.equal(r.status, 0, show(r));
      assert.equal(readFileSync(file).subarray(0, 4).toString("latin1"), "\x7fELF");
    } finally {
      for (const f of [file, victim, link]) rmSync(f, { force: true });
    }
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
    // nobody cannot read the app's environment: with the same TMPDIR it finds the socket, and is refused by it.
    const r = runCli(["collect", "-p", String(app.pid), "-o", join(tmpdir(), "clrscope-nobody.core")], { timeout: CLI_TIMEOUT_MS, env: { ...process.env, TMPDIR: appTmp }, ...nobody });
    expectOneLineFailure(r, /permission denied.*same user as the process \(uid 0\) or as root.*CAP_SYS_PTRACE/);
  });
});

function readdirTids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number);
}

/** /proc/PID/stat field 22: the key in the runtime's socket name. */
function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

interface Ignored {
  path: string;
  reason: string;
  message: string;
}

/** The CLI run without blocking the event loop, so that a fake server's log lines are read meanwhile. */
async function runCliAsync(args: string[]): Promise<CliRun> {
  const { child, done } = startCli(args);
  const timer = setTimeout(() => child.kill("SIGKILL"), CLI_TIMEOUT_MS);
  const r = await done;
  clearTimeout(timer);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the fake server's last lines
  return r;
}

/** Runs the CLI in the background: the child (to signal) and its outcome. */
function startCli(args: string[]): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.once("close", (status, signal) => resolve({ stdout, stderr, status, signal })));
  return { child, done };
}

describe("collect against a fake .NET process of another user (nobody): result checks, stall timeout, SIGINT", { skip: notRoot, timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "clrscope-fake-"));
    chmodSync(dir, 0o1777); // the fake process (nobody) listens and writes here
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake .NET process of nobody's, its socket named for its own pid and start time in `dir`. */
  async function fakeProcess(config: Partial<ForeignServerConfig>): Promise<ForeignServer> {
    return startForeignServer({ sockets: [], ownSocketDir: dir, replies: {}, ...config }, NOBODY);
  }
  const answersOk = { "1": okReply().toString("hex") };

  /** Exit `code`, nothing on stdout, one `clrscope: ...` line matching `pattern`. */
  function expectOneLine(r: CliRun, code: number, pattern: RegExp): void {
    assert.equal(r.status, code, show(r));
    assert.equal(r.stdout, "", show(r));
    assert.match(r.stderr, /^clrscope: [^\n]+\n$/, show(r));
    assert.match(r.stderr, pattern, show(r));
  }

  test("its socket is used (the owner is the process's); a reply of success with no file: exit 7", async () => {
    const fake = await fakeProcess({ replies: answersOk });
    try {
      const out = join(dir, "none.core");
      expectOneLine(await runCliAsync(["collect", "-p", String(fake.pid), "-o", out]), ExitCode.collectFailed, new RegExp(`reported success but ${out} does not exist`));
      assert.equal(fake.requests.length, 1, "the fake process's own socket was used");
      assert.match(fake.requests[0]!, new RegExp(`^REQUEST 1 \\d+ "${out}"$`));
    } finally {
      fake.kill();
    }
  });

  test("success with a symlink at the path (to a valid-looking root file): exit 7, the target not opened as the dump", async () => {
    const target = join(dir, "root-owned");
    writeFileSync(target, "root's file");
    const fake = await fakeProcess({ replies: answersOk, dumpSymlinkTo: target });
    try {
      const out = join(dir, "symlinked.core");
      expectOneLine(await runCliAsync(["collect", "-p", String(fake.pid), "-o", out]), ExitCode.collectFailed, new RegExp(`reported success but ${out} is a symbolic link: not used`));
      assert.equal(fake.requests.length, 1);
      assert.equal(readFileSync(target, "utf8"), "root's file");
    } finally {
      fake.kill();
    }
  });

  test("no answer and no file: given up after --stall-timeout, exit 7, in seconds", async () => {
    const fake = await fakeProcess({});
    try {
      const t0 = Date.now();
      const r = await runCliAsync(["collect", "-p", String(fake.pid), "-o", join(dir, "stall.core"), "--stall-timeout", "1"]);
      expectOneLine(r, ExitCode.collectFailed, /gave up on process \d+ \(node\): no answer, and it has not created \S+stall\.core for 1\.0 s; its runtime may still be writing there \(--stall-timeout SECS waits longer\)/);
      assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
      assert.equal(fake.requests.length, 1);
    } finally {
      fake.kill();
    }
  });

  test("SIGINT while waiting: one line saying where the runtime may still be writing, exit 130", async () => {
    const fake = await fakeProcess({});
    try {
      const out = join(dir, "interrupted.core");
      const { child, done } = startCli(["collect", "-p", String(fake.pid), "-o", out]);
      // Once the request is sent, the CLI is waiting for the runtime.
      const first = await Promise.race([fake.nextRequest(), done]);
      assert.equal(typeof first, "string", `the CLI ended before asking: ${typeof first === "string" ? "" : show(first)}`);
      child.kill("SIGINT");
      expectOneLine(await done, ExitCode.interrupted, new RegExp(`^clrscope: interrupted: the runtime of process ${fake.pid} \\(node\\) may still be writing the dump to ${out}\n$`));
    } finally {
      fake.kill();
    }
  });

  test("an existing output, a symlink, an empty -o, bad --timeout and --stall-timeout values: exit 2, the runtime never asked", async () => {
    const fake = await fakeProcess({ replies: answersOk });
    try {
      const existing = join(dir, "existing");
      writeFileSync(existing, "keep");
      const link = join(dir, "a-link");
      symlinkSync(join(dir, "link-target"), link);
      const p = ["collect", "-p", String(fake.pid)];
      const cases = [
        [...p, "-o", existing],
        [...p, "-o", link],
        [...p, "-o", link, "--overwrite"],
        [...p, "-o", ""],
        ...["1e9", "0", "-5", "0.5", "86401", "abc", "", "Infinity", "NaN", "0x10"].flatMap((v) => [
          [...p, "-o", join(dir, "t.core"), "--timeout", v],
          [...p, "-o", join(dir, "t.core"), "--stall-timeout", v],
        ]),
      ];
      for (const args of cases) {
        const r = await runCliAsync(args);
        expectOneLine(r, ExitCode.usage, /./);
        assert.doesNotMatch(r.stderr, /Warning|TimeoutOverflow/, args.join(" "));
      }
      assert.equal(readFileSync(existing, "utf8"), "keep");
      assert.ok(!existsSync(join(dir, "link-target")), "the symlink's target was not created");
      assert.deepEqual(fake.requests, []);
    } finally {
      fake.kill();
    }
  });
});

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
    for (const args of [["collect"], ["collect", "-p", "abc"], ["collect", "-p", "1", "--type", "huge"], ["collect", "-p", "1", "-n", "x"], ["collect", "-p", "1", "-o", ""], ["collect", "-p", "1", "--timeout", "1e9"], ["ps", "extra"]]) {
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
