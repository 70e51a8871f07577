// clrscope's `bt all` on native cores, checked against gdb on the same core.
//
// We compare only frames of the program's own code (functions `nm` says the exe defines, plus
// signal frames): those are the frames whose names both tools must agree on. libc frames are
// left out because gdb, with libc6-dbg installed, adds inlined frames (no address, same function
// twice) that an unwinder without DWARF inline info does not show.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";
import { runCliJson, type CliFrame, type CliThread } from "../support/cli.js";
import { gdbBacktraces, type GdbThread } from "../support/gdb-oracle.js";
import { nativeCore, nativeVariants, type NativeCore } from "../support/native-fixtures.js";

const SIGNAL_FRAME = "<signal handler called>";
// Skip (visibly) only while the CLI has not been written; once its source exists, a missing or
// broken build must fail.
const skip = existsSync(join(repoRoot, "src", "cli", "main.ts")) ? false : "CLI not written yet (src/cli/main.ts)";

function ourBacktraces({ exe, core }: NativeCore): CliThread[] {
  const { docs, status, stderr, stdout } = runCliJson(core, ["bt all"], ["--exe", exe]);
  assert.equal(status, 0, `clrscope failed (${status}): ${stderr}`);
  const threads = docs.find((d) => d.command === "bt all")?.result?.threads as CliThread[] | undefined;
  assert.ok(threads, `no "bt all" result in CLI output:\n${stdout}`);
  return threads;
}

/** Functions defined in the exe's own text (nm types t/T). */
function programFunctions(exe: string): Set<string> {
  const names = new Set<string>();
  for (const line of execFileSync("nm", ["--defined-only", exe], { encoding: "utf8" }).split("\n")) {
    const [, type, name] = line.trim().split(/\s+/);
    if ((type === "t" || type === "T") && name) names.add(name);
  }
  return names;
}

/** gdb stops at main ("backtrace past-main" is off); cut ours there too (_start is program code). */
function upToMain(names: string[]): string[] {
  const i = names.indexOf("main");
  return i < 0 ? names : names.slice(0, i + 1);
}

function gdbProgramFrames(t: GdbThread, fns: Set<string>): string[] {
  return upToMain(t.frames.map((f) => f.fn).filter((fn) => fn === SIGNAL_FRAME || fns.has(fn)));
}

function ourProgramFrames(t: CliThread, fns: Set<string>, exe: string): string[] {
  const exeName = basename(exe);
  const isProgram = (f: CliFrame): f is CliFrame & { symbol: string } =>
    f.symbol === SIGNAL_FRAME ||
    (f.symbol !== null && fns.has(f.symbol) && (f.module === null || basename(f.module) === exeName));
  return upToMain(t.frames.filter(isProgram).map((f) => f.symbol));
}

function formatGdb(t: GdbThread): string {
  const lines = t.frames.map((f) => `    #${f.index} ${f.pc === null ? "-" : "0x" + f.pc.toString(16)} ${f.fn}`);
  return [...lines, ...(t.stopped ? [`    (gdb: Backtrace stopped: ${t.stopped})`] : [])].join("\n");
}

function formatOurs(t: CliThread): string {
  return t.frames
    .map((f) => {
      const where = f.symbol === null ? "??" : f.offset ? `${f.symbol}+0x${f.offset.toString(16)}` : f.symbol;
      const mod = f.module === null ? "" : ` [${basename(f.module)}]`;
      return `    #${f.index} ${f.ip} sp=${f.sp} ${where}${mod} (${f.trust})`;
    })
    .join("\n");
}

/** Side-by-side listing of the compared frames, then both full backtraces. */
function describeMismatch(tid: number, expected: string[], actual: string[], g: GdbThread, o: CliThread): string {
  const rows = [`  thread ${tid}: program frames differ`, `    ${"gdb".padEnd(32)}clrscope`];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const e = expected[i] ?? "(none)";
    const a = actual[i] ?? "(none)";
    rows.push(`  ${e === a ? " " : "!"} ${e.padEnd(32)}${a}`);
  }
  return [...rows, "  gdb full:", formatGdb(g), "  clrscope full:", formatOurs(o)].join("\n");
}

interface Compared {
  fixture: NativeCore;
  fns: Set<string>;
  gdb: GdbThread[];
  ours: CliThread[];
}
const memo = new Map<string, Compared>();
function load(name: string, variant: string): Compared {
  const key = `${name}/${variant}`;
  let c = memo.get(key);
  if (!c) {
    const fixture = nativeCore(name, variant);
    c = {
      fixture,
      fns: programFunctions(fixture.exe),
      gdb: gdbBacktraces(fixture.exe, fixture.core),
      ours: ourBacktraces(fixture),
    };
    memo.set(key, c);
  }
  return c;
}

for (const { name, variant } of nativeVariants()) {
  describe(`native bt: ${name}/${variant}`, { skip }, () => {
    test("same thread ids as gdb", () => {
      const { gdb, ours } = load(name, variant);
      const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
      assert.deepEqual(sorted(ours.map((t) => t.tid)), sorted(gdb.map((t) => t.tid)));
    });

    test("program frames match gdb, in order, for every thread", () => {
      const { fixture, fns, gdb, ours } = load(name, variant);
      const byTid = new Map(ours.map((t) => [t.tid, t]));
      const problems: string[] = [];
      for (const g of gdb) {
        const o = byTid.get(g.tid);
        if (!o) {
          problems.push(`  thread ${g.tid}: missing from clrscope output`);
          continue;
        }
        const expected = gdbProgramFrames(g, fns);
        const actual = ourProgramFrames(o, fns, fixture.exe);
        if (JSON.stringify(expected) !== JSON.stringify(actual)) {
          problems.push(describeMismatch(g.tid, expected, actual, g, o));
        }
      }
      assert.equal(problems.length, 0, `${name}/${variant} (core ${fixture.core}):\n${problems.join("\n\n")}`);
    });

    if (name === "deadlock") {
      test("each deadlocked thread shows its lock chain", () => {
        const { fixture, fns, ours } = load(name, variant);
        const chains = ours.map((t) => ourProgramFrames(t, fns, fixture.exe).join(" < "));
        for (const chain of ["take_ab_second < take_ab < worker_ab", "take_ba_second < take_ba < worker_ba"]) {
          assert.ok(chains.includes(chain), `no thread with chain ${chain}; got:\n${chains.join("\n")}`);
        }
      });
    }

    if (name === "spin") {
      test("the spinning thread has the leaf function as frame 0", () => {
        const { gdb, ours } = load(name, variant);
        const spinner = gdb.find((t) => t.frames[0]?.fn === "spin_leaf");
        assert.ok(spinner, "gdb shows no thread in spin_leaf: the fixture is broken");
        const o = ours.find((t) => t.tid === spinner.tid);
        assert.ok(o, `thread ${spinner.tid} missing from clrscope output`);
        assert.equal(o.frames[0]?.symbol, "spin_leaf", `thread ${spinner.tid}:\n${formatOurs(o)}`);
      });
    }
  });
}
