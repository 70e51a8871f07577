// The real CLI on inputs it must refuse (or open with a warning): for each, the documented exit
// code (ExitCode in src/errors.ts), exactly one line on stderr naming the file (no stack trace),
// and nothing on stdout. Damaged variants are built from a synthetic core (test/support/elf-writer)
// and from a real gcore core of a tiny C program (built once, cached under .cache/bad-input/).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { ExitCode } from "../../src/errors.js";
import { cachedDir, sleepSync } from "../support/cache.js";
import { cliPath, runCli, type CliRun } from "../support/cli.js";
import { EM_AARCH64, PF_R, PF_W, pattern, patched, sampleCoreSpec, writeCoreWithLayout } from "../support/elf-writer.js";

const CLI_TIMEOUT_MS = 20_000;

/** Known bugs in src/ that make a case fail today (case name -> bug); reported as TODO. */
const KNOWN_BUGS: Record<string, string> = {};

/** `analyze FILE -c "thread list"`, killed after CLI_TIMEOUT_MS. */
function analyzeFile(file: string, user?: { uid: number; gid: number }): CliRun {
  return runCli(["analyze", file, "-c", "thread list"], { timeout: CLI_TIMEOUT_MS, killSignal: "SIGKILL", env: { ...process.env, NO_COLOR: "1" }, ...user });
}

function show(r: CliRun): string {
  return `status ${r.status}${r.signal ? ` (killed by ${r.signal}${r.signal === "SIGKILL" ? `: over ${CLI_TIMEOUT_MS / 1000} s?` : ""})` : ""}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout.slice(0, 2000)}`;
}

/** The CLI refused `file` with `exitCode`, one `clrscope: ...` line naming it, and no output. */
function expectRefusal(file: string, exitCode: number, user?: { uid: number; gid: number }): void {
  const r = analyzeFile(file, user);
  assert.equal(r.error, undefined, `could not run the CLI: ${r.error?.message}`);
  assert.equal(r.status, exitCode, `expected exit code ${exitCode}\n${show(r)}`);
  assert.equal(r.stdout, "", `stdout must be empty\n${show(r)}`);
  assert.match(r.stderr, /^clrscope: [^\n]+\n?$/, `stderr must be exactly one "clrscope: ..." line\n${show(r)}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  assert.ok(r.stderr.includes(basename(file)), `the message must name the file (${basename(file)})\n${show(r)}`);
}

/** The CLI opened `file` (exit 0) and warned, in one stderr line naming it, that it is truncated. */
function expectOpensTruncated(file: string): CliRun {
  const r = analyzeFile(file);
  assert.equal(r.error, undefined, `could not run the CLI: ${r.error?.message}`);
  assert.equal(r.status, ExitCode.ok, `a core cut inside its memory must still open\n${show(r)}`);
  assert.match(r.stderr, /^[^\n]*truncated[^\n]*\n?$/, `stderr must be one warning line mentioning "truncated"\n${show(r)}`);
  assert.ok(r.stderr.includes(basename(file)), `the warning must name the file\n${show(r)}`);
  return r;
}

// ---- a real core: a tiny C program dumped with gdb's gcore, cached ------------------------

const C_SOURCE = `// bad-input fixture: two threads parked forever.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *worker(void *arg) {
  (void)arg;
  for (;;) pause();
  return 0;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, 0, worker, 0);
  printf("READY %d\\n", (int)getpid());
  fflush(stdout);
  for (;;) pause();
}
`;

function tool(name: string): boolean {
  return spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0;
}

let realCoreResult: { core: string } | { skip: string } | undefined;

/** Path of the cached gcore core, or why there is none on this machine. */
function realCore(): { core: string } | { skip: string } {
  if (realCoreResult) return realCoreResult;
  if (!tool("gcc")) return (realCoreResult = { skip: "gcc not installed" });
  if (!tool("gdb") || spawnSync("sh", ["-c", "command -v gcore"], { stdio: "ignore" }).status !== 0) return (realCoreResult = { skip: "gdb/gcore not installed" });
  try {
    const dir = cachedDir("bad-input", ["bad-input gcore v1", C_SOURCE], buildRealCore);
    realCoreResult = { core: join(dir, "core") };
  } catch (e) {
    realCoreResult = { skip: `could not make a gcore core here: ${(e as Error).message}` };
  }
  return realCoreResult;
}

function buildRealCore(dir: string): void {
  writeFileSync(join(dir, "prog.c"), C_SOURCE);
  const cc = spawnSync("gcc", ["-O0", "-g", "-pthread", "-o", join(dir, "prog"), join(dir, "prog.c")], { encoding: "utf8", timeout: 120_000 });
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  const outPath = join(dir, "prog.out");
  const out = openSync(outPath, "w");
  const child = spawn(join(dir, "prog"), [], { stdio: ["ignore", out, "ignore"] });
  closeSync(out);
  try {
    const pid = child.pid;
    if (pid === undefined) throw new Error("could not start the program");
    const deadline = Date.now() + 20_000;
    while (!readFileSync(outPath, "utf8").includes("READY")) {
      if (Date.now() > deadline) throw new Error("the program did not print READY within 20 s");
      sleepSync(20);
    }
    const g = spawnSync("gcore", ["-o", join(dir, "gcore"), String(pid)], { encoding: "utf8", timeout: 120_000 });
    const made = readdirSync(dir).find((f) => f.startsWith("gcore."));
    if (!made) throw new Error(`gcore wrote no core (status ${g.status}): ${(g.stderr || g.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    renameSync(join(dir, made), join(dir, "core"));
  } finally {
    child.kill("SIGKILL");
  }
}

interface Phdr {
  type: number;
  offset: number;
  filesz: number;
}

/** Program headers of a 64-bit little-endian ELF file (independent of src/dump). */
function programHeaders(bytes: Uint8Array): { phoff: number; phnum: number; phdrs: Phdr[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const phnum = v.getUint16(56, true);
  const phdrs: Phdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    phdrs.push({ type: v.getUint32(o, true), offset: Number(v.getBigUint64(o + 8, true)), filesz: Number(v.getBigUint64(o + 32, true)) });
  }
  return { phoff, phnum, phdrs };
}

// ---- the cases -----------------------------------------------------------------------------

const cliMissing = existsSync(cliPath) ? false : `the CLI is not built (${cliPath})`;

describe("bad input: documented exit code, one stderr line, no stack trace", { skip: cliMissing }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "clrscope-bad-input-"));
  chmodSync(tmp, 0o755); // the "unreadable" case may run the CLI as another user
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const file = (name: string, bytes: Uint8Array | string): string => {
    const p = join(tmp, name);
    writeFileSync(p, bytes);
    return p;
  };

  /** A case, reported as TODO while a known src/ bug makes it fail. */
  const test = (name: string, fn: (t: TestContext) => void) => it(name, { todo: KNOWN_BUGS[name] }, fn);

  describe("cannot read (exit 3)", () => {
    test("missing file", () => expectRefusal(join(tmp, "no-such.core"), ExitCode.cannotRead));

    test("directory", () => {
      const d = join(tmp, "a-directory.core");
      mkdirSync(d);
      expectRefusal(d, ExitCode.cannotRead);
    });

    test("unreadable file", (t) => {
      const p = file("unreadable.core", new Uint8Array(64));
      chmodSync(p, 0o000);
      // root reads anything: run the CLI as nobody instead, if this machine lets us.
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
      if (asNobody && spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(cliPath)})`], { ...asNobody, stdio: "ignore" }).status !== 0) {
        t.skip("running as root and cannot run the CLI as nobody");
        return;
      }
      expectRefusal(p, ExitCode.cannotRead, asNobody);
    });

    // Not regular files: a FIFO would block open() forever, devices read as endless or empty data.
    test("FIFO (no writer: must not hang)", () => {
      const p = join(tmp, "a-fifo.core");
      const made = spawnSync("mkfifo", [p]);
      assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
      expectRefusal(p, ExitCode.cannotRead);
    });

    test("character device /dev/zero", () => expectRefusal("/dev/zero", ExitCode.cannotRead));
    test("character device /dev/urandom", () => expectRefusal("/dev/urandom", ExitCode.cannotRead));

    test("Unix socket", () => {
      const p = join(tmp, "a-socket.core");
      // The socket file stays after its process exits without closing it.
      const made = spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(p)}, () => process.exit(0))`]);
      assert.equal(made.status, 0, `making the socket: ${made.stderr}`);
      expectRefusal(p, ExitCode.cannotRead);
    });

    for (const option of ["--exe", "--dac"]) {
      test(`${option} naming a FIFO`, () => {
        const p = join(tmp, `a-fifo${option}`);
        assert.equal(spawnSync("mkfifo", [p]).status, 0);
        const r = runCli(["analyze", join(tmp, "no-such.core"), option, p, "-c", "thread list"], { timeout: CLI_TIMEOUT_MS, killSignal: "SIGKILL" });
        assert.equal(r.status, ExitCode.cannotRead, show(r));
        assert.match(r.stderr, new RegExp(`^clrscope: [^\\n]*a-fifo${option} is a FIFO \\(named pipe\\), not [^\\n]*\\(${option}\\)\\n$`), show(r));
      });
    }

    test("--symbols naming a file", () => {
      const r = runCli(["analyze", join(tmp, "no-such.core"), "--symbols", "/dev/null", "-c", "thread list"], { timeout: CLI_TIMEOUT_MS });
      assert.equal(r.status, ExitCode.cannotRead, show(r));
      assert.equal(r.stderr, "clrscope: --symbols /dev/null is a character device, not a directory\n");
    });
  });

  describe("unsupported (exit 4)", () => {
    const spec = sampleCoreSpec();
    test("empty file", () => expectRefusal(file("empty.core", new Uint8Array(0)), ExitCode.unsupported));
    test("text file", () => expectRefusal(file("notes.txt", "these are not the bytes you are looking for\n".repeat(50)), ExitCode.unsupported));
    test("ELF executable", () => {
      const exe = ["/bin/ls", "/bin/true", "/usr/bin/env"].find((p) => existsSync(p)) ?? process.execPath;
      expectRefusal(exe, ExitCode.unsupported);
    });
    test("32-bit ELF", () => expectRefusal(file("elf32.core", writeCoreWithLayout({ ...spec, overrides: { elfClass: 1 } }).bytes), ExitCode.unsupported));
    test("big-endian ELF", () => expectRefusal(file("bigendian.core", writeCoreWithLayout({ ...spec, overrides: { elfData: 2 } }).bytes), ExitCode.unsupported));
    test("AArch64 core", () => expectRefusal(file("aarch64.core", writeCoreWithLayout({ ...spec, overrides: { machine: EM_AARCH64 } }).bytes), ExitCode.unsupported));
  });

  describe("synthetic core, damaged (exit 5) or cut in its memory (exit 0 + warning)", () => {
    const { bytes, layout } = writeCoreWithLayout(sampleCoreSpec());
    const firstNote = layout.notes[0]!;

    test("synthetic: control, untouched", () => {
      const r = analyzeFile(file("synthetic-ok.core", bytes));
      assert.equal(r.status, ExitCode.ok, show(r));
      assert.equal(r.stderr, "", show(r));
    });
    test("synthetic: cut inside the ELF header", () => expectRefusal(file("s-cut-ehdr.core", bytes.subarray(0, 40)), ExitCode.corrupt));
    test("synthetic: cut inside the program headers", () => expectRefusal(file("s-cut-phdrs.core", bytes.subarray(0, layout.phoff + 56 + 20)), ExitCode.corrupt));
    test("synthetic: cut inside the notes", () => expectRefusal(file("s-cut-notes.core", bytes.subarray(0, layout.notesOffset + Math.floor(layout.notesSize / 2))), ExitCode.corrupt));
    test("synthetic: huge e_phnum", () => expectRefusal(file("s-phnum.core", patched(bytes, 56, 0xfffe, 2)), ExitCode.corrupt));
    test("synthetic: PN_XNUM count that runs past the file", () =>
      expectRefusal(file("s-xnum.core", writeCoreWithLayout({ ...sampleCoreSpec(), pnXnum: true, overrides: { xnumCount: 0x10_0000 } }).bytes), ExitCode.corrupt));
    test("synthetic: note descsz past the note segment", () => expectRefusal(file("s-descsz.core", patched(bytes, firstNote.offset + 4, 0x7fff_0000, 4)), ExitCode.corrupt));
    test("synthetic: note namesz past the note segment", () => expectRefusal(file("s-namesz.core", patched(bytes, firstNote.offset, 0x10_0000, 4)), ExitCode.corrupt));
    test("synthetic: NT_PRSTATUS too short", () => expectRefusal(file("s-prstatus.core", patched(bytes, firstNote.offset + 4, 64, 4)), ExitCode.corrupt));
    test("synthetic: note sizes that wrap when aligned", () => {
      const b = patched(patched(bytes, firstNote.offset, 0xffff_fff0, 4), firstNote.offset + 4, 4, 4);
      expectRefusal(file("s-wrap.core", b), ExitCode.corrupt);
    });
    test("synthetic: cut inside a memory segment", () => {
      const cut = layout.segmentOffsets[1]! + Math.floor(layout.segmentFileSizes[1]! / 2);
      expectOpensTruncated(file("s-cut-memory.core", bytes.subarray(0, cut)));
    });
    test("synthetic: segment data missing entirely (filesz 0 is not truncation)", () => {
      const spec = sampleCoreSpec();
      spec.segments!.push({ vaddr: 0x7e00_0000_0000, memsz: 0x4000, filesz: 0, flags: PF_R | PF_W }, { vaddr: 0x7e00_0001_0000, bytes: pattern(64, 4) });
      const r = analyzeFile(file("s-filesz0.core", writeCoreWithLayout(spec).bytes));
      assert.equal(r.status, ExitCode.ok, show(r));
      assert.equal(r.stderr, "", show(r));
    });
  });

  describe("real gcore core, damaged", () => {
    /** The cached core and its layout, or a skip. */
    const load = (t: TestContext): { bytes: Uint8Array; phoff: number; phnum: number; phdrs: Phdr[] } | undefined => {
      const rc = realCore();
      if ("skip" in rc) {
        t.skip(rc.skip);
        return undefined;
      }
      const bytes = new Uint8Array(readFileSync(rc.core));
      return { bytes, ...programHeaders(bytes) };
    };
    const noteOf = (phdrs: Phdr[]) => phdrs.find((p) => p.type === 4)!;

    test("real gcore core, untouched", (t) => {
      const c = load(t);
      if (!c) return;
      const r = analyzeFile(file("real-ok.core", c.bytes));
      assert.equal(r.status, ExitCode.ok, show(r));
      assert.equal(r.stderr, "", show(r));
    });
    test("real gcore core, cut at 100 bytes", (t) => {
      const c = load(t);
      if (c) expectRefusal(file("r-cut-100.core", c.bytes.subarray(0, 100)), ExitCode.corrupt);
    });
    test("real gcore core, cut inside the program headers", (t) => {
      const c = load(t);
      if (c) expectRefusal(file("r-cut-phdrs.core", c.bytes.subarray(0, c.phoff + Math.floor(c.phnum / 2) * 56 + 20)), ExitCode.corrupt);
    });
    test("real gcore core, cut inside the notes", (t) => {
      const c = load(t);
      if (!c) return;
      const n = noteOf(c.phdrs);
      expectRefusal(file("r-cut-notes.core", c.bytes.subarray(0, n.offset + Math.floor(n.filesz / 2))), ExitCode.corrupt);
    });
    test("real gcore core, cut inside the first memory segment", (t) => {
      const c = load(t);
      if (!c) return;
      const first = c.phdrs.filter((p) => p.type === 1 && p.filesz > 0).sort((a, b) => a.offset - b.offset)[0]!;
      const cut = first.offset + Math.floor(first.filesz / 2);
      const n = noteOf(c.phdrs);
      const p = file("r-cut-memory.core", c.bytes.subarray(0, cut));
      // gcore writes the notes after the memory, so this cut loses them too: then it is corrupt.
      if (n.offset + n.filesz <= cut) expectOpensTruncated(p);
      else expectRefusal(p, ExitCode.corrupt);
    });
    test("real gcore core, huge e_phnum", (t) => {
      const c = load(t);
      if (c) expectRefusal(file("r-phnum.core", patched(c.bytes, 56, 0xfff0, 2)), ExitCode.corrupt);
    });
    test("real gcore core, note descsz past the note segment", (t) => {
      const c = load(t);
      if (c) expectRefusal(file("r-descsz.core", patched(c.bytes, noteOf(c.phdrs).offset + 4, 0x7fff_0000, 4)), ExitCode.corrupt);
    });
    test("real gcore core, note segment size past the file", (t) => {
      const c = load(t);
      if (!c) return;
      const i = c.phdrs.findIndex((p) => p.type === 4);
      expectRefusal(file("r-notesz.core", patched(c.bytes, c.phoff + i * 56 + 32, BigInt(c.bytes.length) * 2n, 8)), ExitCode.corrupt);
    });
  });
});
