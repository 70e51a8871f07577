// Opening a real .NET core dump (createdump -u of test/targets/hello) with the CLI and checking
// threads and native stacks against oracles that did not come from clrscope: the target's own
// truth file (gettid, /proc/self/maps, Environment.Version) and binutils' view of the ELF notes.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { runCli, runCliJson, type CliDoc, type CliThread } from "../support/cli.js";
import { dotnetDump, hasDotnet, type DotnetDump } from "../support/dotnet-fixtures.js";

const noDotnet = hasDotnet() ? false : "no dotnet SDK on PATH";

interface ThreadListEntry {
  index: number;
  tid: number;
  [k: string]: unknown;
}

/** `analyze --json` prints one JSON object per line, one per command: by command. */
function byCommand(docs: CliDoc<unknown>[]): Map<string, CliDoc<unknown>> {
  return new Map(docs.map((d) => [d.command, d]));
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
  const r = runCliJson(core, ["bt all"]);
  assert.equal(r.status, 0, r.stderr);
  return (byCommand(r.docs).get("bt all")!.result as { threads: CliThread[] }).threads.map((t) => t.stop);
}

describe("open a createdump full dump of test/targets/hello", { skip: noDotnet, timeout: 900_000 }, () => {
  let d: DotnetDump;
  let notes: number;
  let analyzed: { threads: ThreadListEntry[]; stacks: CliThread[] } | undefined;

  before(() => {
    d = dotnetDump("hello", "full");
    notes = prstatusCount(d.core);
  });

  /** One `analyze --json -c "thread list" -c "bt all"` run, shared by the tests below. */
  function analyze(): NonNullable<typeof analyzed> {
    if (analyzed) return analyzed;
    const r = runCliJson(d.core, ["thread list", "bt all"]);
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
    const res = byCommand(r.docs);
    const tl = res.get("thread list");
    assert.ok(tl, `no "thread list" result in:\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`);
    assert.equal(tl.error, undefined, `thread list failed: ${JSON.stringify(tl.error)}`);
    const bt = res.get("bt all");
    assert.ok(bt, `no "bt all" result in:\n${r.stdout.slice(0, 2000)}`);
    assert.equal(bt.error, undefined, `bt all failed: ${JSON.stringify(bt.error)}`);
    analyzed = {
      threads: (tl.result as { threads: ThreadListEntry[] }).threads,
      stacks: (bt.result as { threads: CliThread[] }).threads,
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

  test("bt all: frames on every thread, libcoreclr.so + libc.so.6 frames, named JIT'd frames", () => {
    const { stacks } = analyze();
    assert.equal(stacks.length, notes, "bt all does not cover every thread");
    for (const s of stacks) assert.ok(s.frames.length >= 1, `thread ${s.tid} has no frames`);
    const hasBoth = stacks.some(
      (s) =>
        s.frames.some((f) => f.module?.endsWith("libcoreclr.so")) && s.frames.some((f) => f.module?.endsWith("libc.so.6")),
    );
    assert.ok(hasBoth, "no thread has both libcoreclr.so and libc.so.6 frames");
    // JIT'd code lives in anonymous executable memory; with the runtime's data contracts, bt
    // names it after its assembly (hello.dll is not ReadyToRun, so its frames are JIT'd).
    const jitted = stacks.some((s) => s.frames.some((f) => f.module === "hello.dll" && f.symbol?.startsWith("Hello.Program.")));
    assert.ok(jitted, "no JIT'd hello.dll frame");
    // Every walk, through libcoreclr, JIT'd code and the host, ends at the thread's root
    // (clone3 / _start), not on an unreadable or invalid frame.
    const stops = (analyzedStops ??= stopsOf(d.core));
    assert.deepEqual([...new Set(stops)], ["root"], `walks that did not reach their root: ${stops.join(", ")}`);
  });

  test("text mode: the open banner names libcoreclr.so and the runtime version", () => {
    const r = runCli(["analyze", d.core, "-c", "thread list"]);
    if (r.error) throw r.error;
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
      const r = runCliJson(d.core, ["thread list", "bt all", "image list -v"]);
      assert.equal(r.status, 0, r.stderr);
      const res = byCommand(r.docs);
      const tids = new Set((res.get("thread list")!.result as { threads: ThreadListEntry[] }).threads.map((t) => t.tid));
      for (const th of d.truth.threads) assert.ok(tids.has(th.osTid), `truth thread ${th.role} (tid ${th.osTid}) missing`);
      const stacks = (res.get("bt all")!.result as { threads: CliThread[] }).threads;
      assert.deepEqual([...new Set(stacks.map((t) => t.stop))], ["root"]);
      assert.ok(stacks.some((t) => t.frames.some((f) => f.module === "libcoreclr.so")));
      const images = (res.get("image list -v")!.result as { images: { name: string; file: string }[] }).images;
      assert.equal(images.find((m) => m.name === "libcoreclr.so")?.file, "verified");
    });
  });
}
