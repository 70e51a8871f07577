// clrthreads and clrstack -all on createdump dumps of test/targets/scenarios, whose threads park in
// known managed call chains (Monitor.Wait, Thread.Sleep, a contended lock, a blocking P/Invoke, a
// thread-pool work item, a generic method of a generic type over int and string, a DynamicMethod,
// a catch block). Oracles clrscope did not produce: the app's truth file (gettid, ManagedThreadId,
// IsBackground, IsThreadPoolThread; frame names built from reflection by the app's SosNames.cs) and
// ClrMD (the runtime's DAC) for the exception in flight and every frame's name.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ClrStackResult } from "../../src/commands/sos/clrstack.js";
import type { ClrThreadsResult } from "../../src/commands/sos/clrthreads.js";
import { resultOf, runCli, runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { hasDotnet, scenarioDump, type ScenarioTruth } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

type TruthThread = ScenarioTruth["threads"][number];

/** The roles the app parks; each must be in the truth file (a missing one is a broken target). */
const ROLES = ["main", "monitor-wait", "sleep", "lock-holder", "lock-blocked", "pinvoke", "pinvoke-stub", "threadpool", "generic-int-string",
  "generic-string-int", "dynamic", "exception-in-catch", "exception-nested", "exception-after-catch"];

function parkedThreads(truth: ScenarioTruth): TruthThread[] {
  assert.deepEqual(truth.threads.map((t) => t.role).sort(), [...ROLES].sort(), "the app parked every scenario");
  return truth.threads;
}

/** True when `needle` occurs in `hay` in order (not necessarily contiguously). */
function isSubsequence(needle: string[], hay: string[]): boolean {
  let i = 0;
  for (const h of hay) if (i < needle.length && h === needle[i]) i++;
  return i === needle.length;
}

// .NET 10 (contracts walk), and self-contained .NET 9 and 8, where the runtime's DAC walks.
const variants: { type: "full" | "heap"; framework?: string; label: string }[] = [
  { type: "full", label: "a full dump" },
  { type: "heap", label: "a heap dump" },
  { type: "full", framework: "net9.0", label: "a .NET 9 full dump" },
  { type: "full", framework: "net8.0", label: "a .NET 8 full dump" },
];

for (const { type, framework, label } of variants) {
  describe(`scenario threads on ${label}`, { skip, timeout: 900_000 }, () => {
    test("clrthreads: every parked thread with its OS id, managed id, GC mode, flags and exception", () => {
      const d = scenarioDump(type, framework);
      const { docs, status, stderr } = runCliJson(d.core, ["clrthreads"]);
      assert.equal(status, 0, stderr);
      const rows = resultOf<ClrThreadsResult>(docs, "clrthreads").threads;
      const theirs = clrmdOracle(d.core, "threads").result.threads;
      for (const t of parkedThreads(d.truth)) {
        const row = rows.find((r) => r.osId === t.osTid);
        assert.ok(row, `${t.role}: OS thread ${t.osTid} missing from clrthreads`);
        assert.equal(row.managedId, t.managedId, `${t.role}: managed id`);
        // Every parked thread waits in native code (sleep, futex, read): preemptive mode.
        assert.equal(row.gcMode, "Preemptive", `${t.role}: GC mode`);
        assert.equal(row.background, t.isBackground, `${t.role}: background`);
        assert.equal(row.threadPoolWorker, t.isThreadPool, `${t.role}: thread-pool worker`);
        assert.equal(row.exception?.type ?? null, t.lastThrownType, `${t.role}: exception`);
        assert.equal(row.nestedExceptions, t.nestedExceptions, `${t.role}: nested exceptions`);
        const clrmd = theirs.find((x) => x.osThreadId === t.osTid)!;
        assert.equal(row.exception?.address ?? null, clrmd.currentException?.address ?? null, `${t.role}: exception object (ClrMD)`);
      }
    });

    test("clrthreads text: the Exception column shows the type, the object's address and nesting", () => {
      const d = scenarioDump(type, framework);
      const { docs } = runCliJson(d.core, ["clrthreads"]);
      const r = resultOf<ClrThreadsResult>(docs, "clrthreads");
      const text = runCliText(d.core, "clrthreads");
      const handling = d.truth.threads.filter((t) => t.lastThrownType !== null);
      assert.ok(handling.length >= 2 && handling.some((t) => t.nestedExceptions));
      for (const t of handling) {
        const row = r.threads.find((x) => x.osId === t.osTid)!;
        const line = text.split("\n").find((l) => l.includes(` ${t.osTid.toString(16)} `));
        assert.ok(line, `no clrthreads line for ${t.osTid.toString(16)}`);
        const address = BigInt(row.exception!.address).toString(16).padStart(16, "0");
        assert.ok(line.endsWith(` ${t.lastThrownType} ${address}${t.nestedExceptions ? " (nested exceptions)" : ""}`), line);
      }
    });

    test("clrstack -all: each parked thread's managed frames, in order, with exact names and signatures", () => {
      const d = scenarioDump(type, framework);
      const { docs, status, stderr } = runCliJson(d.core, ["clrstack -all"]);
      assert.equal(status, 0, stderr);
      const stacks = resultOf<ClrStackResult>(docs, "clrstack -all").threads;
      assert.ok(d.truth.threads.some((t) => t.calleeFrames.length > 0), "an IL stub frame is expected");
      for (const t of parkedThreads(d.truth)) {
        const stack = stacks.find((s) => s.osId === t.osTid);
        assert.ok(stack, `${t.role}: no stack for OS thread ${t.osTid}`);
        const got = stack.frames.filter((f) => f.kind === "managed").map((f) => f.callSite);
        const expected = t.frames.map((f) => f.name);
        const app = t.frames.filter((f) => f.app).map((f) => f.name);
        // The app's frames (its own methods, the generic instantiations, the DynamicMethod) are exact
        // and consecutive, starting where the blocking call returns to the app. Frames above them are
        // the blocking API's internals (Monitor.Wait, Thread.Sleep...), which the app cannot see from
        // reflection before it blocks; below them, the callers StackTrace saw must appear in order
        // (the runtime may show more, e.g. frames StackTrace hides).
        const first = got.indexOf(app[0]!);
        assert.ok(first >= 0, `${t.role}: ${app[0]} not in ${JSON.stringify(got, null, 1)}`);
        assert.ok(got.slice(0, first).every((n) => !app.includes(n)), `${t.role}: app frames above the parked method`);
        assert.deepEqual(got.slice(first - t.calleeFrames.length, first), t.calleeFrames, `${t.role}: frames right above the app's`);
        if (t.lastThrownType !== null) {
          // In a catch block the runtime shows the funclet, the exception dispatch frames, then the
          // method again (its parent frame): the app's frames appear in order, the parked one twice.
          assert.ok(isSubsequence(app, got.slice(first)), `${t.role}: ${JSON.stringify(got, null, 1)}`);
          assert.ok(got.filter((n) => n === app[0]).length >= 2, `${t.role}: funclet and parent frame`);
        } else {
          assert.deepEqual(got.slice(first, first + app.length), app, `${t.role}: the app's frames`);
        }
        assert.ok(isSubsequence(expected, got), `${t.role}: expected ${JSON.stringify(expected, null, 1)} in order in ${JSON.stringify(got, null, 1)}`);
      }
    });

    test("clrstack -all: every managed frame's name equals the DAC's (ClrMD)", () => {
      const d = scenarioDump(type, framework);
      const { docs } = runCliJson(d.core, ["clrstack -all"]);
      const stacks = resultOf<ClrStackResult>(docs, "clrstack -all").threads;
      const theirs = clrmdOracle(d.core, "stacks").result.threads;
      let compared = 0;
      let framesWithMethods = 0;
      for (const t of parkedThreads(d.truth)) {
        const ours = stacks.find((s) => s.osId === t.osTid)!.frames.filter((f) => f.kind === "managed").map((f) => f.callSite);
        const clrmd = theirs.find((x) => x.osThreadId === t.osTid)!.frames.filter((f) => f.kind === "ManagedMethod" && f.method).map((f) => f.method!.signature);
        // In a heap dump ClrMD (the DAC) leaves the DynamicMethod's frame out; the truth file shows
        // it is there (the app saw it in StackTrace), so it is compared with the truth only.
        const dacSkips = type === "heap" && t.role === "dynamic" && !clrmd.includes(d.truth.dynamicMethod.name);
        assert.deepEqual(dacSkips ? ours.filter((n) => n !== d.truth.dynamicMethod.name) : ours, clrmd, `${t.role}: frame names`);
        compared += ours.length;
        // The methods explicit Frames stand for (a P/Invoke's target after its InlinedCallFrame),
        // as SOS prints them; ClrMD reports such a Frame twice, hence sets.
        const frameRows = stacks.find((s) => s.osId === t.osTid)!.frames.filter((f) => f.kind === "frame" && f.methodDesc !== null);
        const ourFrameMethods = new Set(frameRows.map((f) => f.callSite.slice(f.callSite.indexOf("] ") + 2)));
        const clrmdFrameMethods = new Set(theirs.find((x) => x.osThreadId === t.osTid)!.frames.filter((f) => f.kind === "Runtime" && f.method).map((f) => f.method!.signature));
        assert.deepEqual(ourFrameMethods, clrmdFrameMethods, `${t.role}: methods of explicit Frames`);
        framesWithMethods += ourFrameMethods.size;
      }
      assert.ok(compared >= 40, `only ${compared} frames compared`);
      assert.ok(framesWithMethods >= 2, "the P/Invoke threads' InlinedCallFrames name their targets");
    });
  });
}

/** The CLI's text output of one command. */
function runCliText(core: string, command: string): string {
  const r = runCli(["analyze", core, "-c", command]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
