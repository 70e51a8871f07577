// The managed view through data contracts only: `runtime` and `clrthreads` on createdump dumps
// of test/targets/hello, checked against the app's own truth file (gettid, ManagedThreadId,
// IsBackground, IsThreadPoolThread) and against the dump's native threads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resultOf, runCliJson } from "../support/cli.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";


interface ClrThread {
  dbg: number | null;
  managedId: number;
  osId: number;
  address: string;
  gcMode: string;
  background: boolean;
  threadPoolWorker: boolean;
  finalizer: boolean;
}

for (const type of ["full", "heap"] as const) {
  describe(`runtime and clrthreads on a ${type} dump (contracts backend)`, { skip, timeout: 900_000 }, () => {
    test("the descriptor names the runtime's contracts; every truth thread is listed with its ids and flags", () => {
      const d = dotnetDump("hello", type);
      const { docs, status, stderr } = runCliJson(d.core, ["runtime", "clrthreads", "thread list"]);
      assert.equal(status, 0, stderr);
      const rt = resultOf<{ backend: string; version: string; contracts: { name: string; version: number }[] }>(docs, "runtime");
      assert.equal(rt.backend, "contracts");
      assert.equal(rt.version, d.truth.runtimeVersion);
      assert.ok(rt.contracts.some((c) => c.name === "Thread" && c.version === 1), JSON.stringify(rt.contracts));

      const ct = resultOf<{ counts: { threadCount: number; background: number; dead: number }; threads: ClrThread[] }>(docs, "clrthreads");
      const native = resultOf<{ threads: { index: number; tid: number }[] }>(docs, "thread list").threads;
      for (const th of d.truth.threads) {
        const t = ct.threads.find((x) => x.osId === th.osTid);
        assert.ok(t, `truth thread ${th.role} (tid ${th.osTid}) not in clrthreads`);
        assert.equal(t.managedId, th.managedId, `${th.role}: managed id`);
        assert.equal(t.background, th.isBackground, `${th.role}: background flag`);
        assert.equal(t.threadPoolWorker, th.isThreadPool, `${th.role}: thread-pool flag`);
        // Every parked thread waits in the OS: it has left cooperative mode.
        assert.equal(t.gcMode, "Preemptive", `${th.role}: GC mode`);
        // DBG is the 0-based index `setthread` takes: it must name the same OS thread.
        assert.equal(native[t.dbg!]?.tid, th.osTid, `${th.role}: DBG index`);
      }
      assert.equal(ct.counts.threadCount - ct.counts.dead, ct.threads.filter((t) => t.osId !== 0).length, "live thread count");
      assert.equal(ct.counts.background, ct.threads.filter((t) => t.background).length, "background count");
      assert.equal(ct.threads.filter((t) => t.finalizer).length, 1, "one finalizer thread");
      assert.equal(new Set(ct.threads.map((t) => t.address)).size, ct.threads.length, "distinct Thread objects");
    });
  });
}
