// Opening a real .NET core dump (createdump -u of test/targets/hello) with the CLI and checking
// threads and native stacks against oracles that did not come from clrscope: the target's own
// truth file (gettid, /proc/self/maps, Environment.Version) and binutils' view of the ELF notes.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../support/cache.js";
import { dotnetDump, hasDotnet, type DotnetDump } from "../support/dotnet-fixtures.js";

const CLI = path.join(repoRoot, "dist", "src", "cli", "main.js");
const noDotnet = hasDotnet() ? false : "no dotnet SDK on PATH";

interface Frame {
  index: number;
  ip: string | number;
  sp: string | number;
  module: string | null;
  symbol: string | null;
  offset: number | string | null;
  trust: string;
}
interface ThreadListEntry {
  index: number;
  tid: number;
  [k: string]: unknown;
}
interface CommandResult {
  command: string;
  result?: unknown;
  error?: unknown;
}

function cli(args: string[]): { stdout: string; stderr: string; status: number | null } {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run \`npm run build\``);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** `analyze --json` prints one JSON object per line, one per command. */
function jsonResults(stdout: string): Map<string, CommandResult> {
  const out = new Map<string, CommandResult>();
  for (const line of stdout.split("\n")) {
    const s = line.trim();
    if (!s.startsWith("{")) continue;
    const o = JSON.parse(s) as CommandResult;
    if (typeof o.command === "string") out.set(o.command, o);
  }
  return out;
}

/** Independent thread count: one NT_PRSTATUS note per thread, as binutils reads the core. */
function prstatusCount(core: string): number {
  const r = spawnSync("readelf", ["-n", "-W", core], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`readelf: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => /\bNT_PRSTATUS\b/.test(l)).length;
}

let analyzedStops: string[] | undefined;

function stopsOf(core: string): string[] {
  const r = cli(["analyze", core, "--json", "-c", "bt all"]);
  assert.equal(r.status, 0, r.stderr);
  return (jsonResults(r.stdout).get("bt all")!.result as { threads: { stop: string }[] }).threads.map((t) => t.stop);
}

describe("open a createdump full dump of test/targets/hello", { skip: noDotnet, timeout: 900_000 }, () => {
  let d: DotnetDump;
  let notes: number;
  let analyzed: { threads: ThreadListEntry[]; stacks: { tid: number; frames: Frame[] }[] } | undefined;

  before(() => {
    d = dotnetDump("hello", "full");
    notes = prstatusCount(d.core);
  });

  /** One `analyze --json -c "thread list" -c "bt all"` run, shared by the tests below. */
  function analyze(): NonNullable<typeof analyzed> {
    if (analyzed) return analyzed;
    const r = cli(["analyze", d.core, "--json", "-c", "thread list", "-c", "bt all"]);
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    const res = jsonResults(r.stdout);
    const tl = res.get("thread list");
    assert.ok(tl, `no "thread list" result in:\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`);
    assert.equal(tl.error, undefined, `thread list failed: ${JSON.stringify(tl.error)}`);
    const bt = res.get("bt all");
    assert.ok(bt, `no "bt all" result in:\n${r.stdout.slice(0, 2000)}`);
    assert.equal(bt.error, undefined, `bt all failed: ${JSON.stringify(bt.error)}`);
    analyzed = {
      threads: (tl.result as { threads: ThreadListEntry[] }).threads,
      stacks: (bt.result as { threads: { tid: number; frames: Frame[] }[] }).threads,
    };
    return analyzed;
  }

  test("fixture: the core holds one NT_PRSTATUS per thread, at least the parked ones", () => {
    // Sanity of the fixture itself (no clrscope involved); the runtime adds threads of its own.
    assert.ok(notes >= d.truth.threads.length, `${notes} NT_PRSTATUS notes < ${d.truth.threads.length} truth threads`);
    assert.equal(d.truth.threads.find((t) => t.role === "main")?.osTid, d.truth.pid);
    assert.ok(d.truth.libcoreclr.endsWith("/libcoreclr.so"), d.truth.libcoreclr);
  });

  test("thread list: every OS thread of the truth file, as many threads as NT_PRSTATUS notes", () => {
    const { threads } = analyze();
    const tids = new Set(threads.map((x) => x.tid));
    for (const th of d.truth.threads) {
      assert.ok(tids.has(th.osTid), `truth thread ${th.role} (tid ${th.osTid}) missing from thread list`);
    }
    assert.equal(threads.length, notes, "thread count != NT_PRSTATUS count (readelf)");
    assert.equal(tids.size, threads.length, "duplicate tids in thread list");
  });

  test("bt all: frames on every thread, libcoreclr.so + libc.so.6 frames, JIT'd (module-less) frames", () => {
    const { stacks } = analyze();
    assert.equal(stacks.length, notes, "bt all does not cover every thread");
    for (const s of stacks) assert.ok(s.frames.length >= 1, `thread ${s.tid} has no frames`);
    const hasBoth = stacks.some(
      (s) =>
        s.frames.some((f) => f.module?.endsWith("libcoreclr.so")) && s.frames.some((f) => f.module?.endsWith("libc.so.6")),
    );
    assert.ok(hasBoth, "no thread has both libcoreclr.so and libc.so.6 frames");
    const jitted = stacks.some((s) => s.frames.some((f) => f.module === null));
    assert.ok(jitted, "no frame in anonymous executable memory (JIT'd code)");
    // Every walk, through libcoreclr, JIT'd code and the host, ends at the thread's root
    // (clone3 / _start), not on an unreadable or invalid frame.
    const stops = (analyzedStops ??= stopsOf(d.core));
    assert.deepEqual([...new Set(stops)], ["root"], `walks that did not reach their root: ${stops.join(", ")}`);
  });

  test("text mode: the open banner names libcoreclr.so and the runtime version", () => {
    const r = cli(["analyze", d.core, "-c", "thread list"]);
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    const text = r.stderr + "\n" + r.stdout;
    assert.match(text, /libcoreclr\.so/, "banner does not mention libcoreclr.so");
    assert.ok(text.includes(d.truth.runtimeVersion), `banner does not mention runtime ${d.truth.runtimeVersion}`);
  });
});

// Heap and mini dumps leave out module images: code, .eh_frame and symbols then come from the
// files on disk (verified against the headers the dump does hold).
for (const type of ["heap", "mini"] as const) {
  describe(`open a createdump ${type} dump of test/targets/hello`, { skip: noDotnet, timeout: 900_000 }, () => {
    test("every truth thread is listed and every native walk reaches its root", () => {
      const d = dotnetDump("hello", type);
      const r = cli(["analyze", d.core, "--json", "-c", "thread list", "-c", "bt all", "-c", "image list -v"]);
      assert.equal(r.status, 0, r.stderr);
      const res = jsonResults(r.stdout);
      const tids = new Set((res.get("thread list")!.result as { threads: ThreadListEntry[] }).threads.map((t) => t.tid));
      for (const th of d.truth.threads) assert.ok(tids.has(th.osTid), `truth thread ${th.role} (tid ${th.osTid}) missing`);
      const stacks = (res.get("bt all")!.result as { threads: { stop: string; frames: Frame[] }[] }).threads;
      assert.deepEqual([...new Set(stacks.map((t) => t.stop))], ["root"]);
      assert.ok(stacks.some((t) => t.frames.some((f) => f.module === "libcoreclr.so")));
      const images = (res.get("image list -v")!.result as { images: { name: string; file: string }[] }).images;
      assert.equal(images.find((m) => m.name === "libcoreclr.so")?.file, "verified");
    });
  });
}
