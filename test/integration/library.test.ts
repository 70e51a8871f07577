// The README's library example, run as written (only the dump path is filled in) against the
// package's own exports (`import ... from "clrscope"` resolves to dist/src/index.js): on a .NET 8
// dump (no data contracts: the DAC answers) and a .NET 10 dump, the backtraces name the managed
// frames the scenario app says its threads are parked in, and the managed threads and modules
// are those of its truth file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";
import { hasDotnet, scenarioDump } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no .NET SDK";

/** The first ```js block of the README's "As a library" section. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### As a library"));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "README: no ```js block under ### As a library");
  return m[1]!;
}

/** Runs the example on `core`; its stdout lines. */
function runExample(core: string): string[] {
  const code = readmeExample();
  assert.ok(code.includes('"core.1234"'), "the example opens core.1234");
  // Inside the package (dist/), so that "clrscope" resolves to the package's own exports.
  const file = join(repoRoot, "dist", `readme-example-${process.pid}.mjs`);
  writeFileSync(file, code.replace('"core.1234"', JSON.stringify(core)));
  try {
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.error, undefined, `the example did not end: ${r.error?.message}`);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n");
  } finally {
    rmSync(file, { force: true });
  }
}

for (const framework of ["net8.0", undefined]) {
  describe(`the README's library example on a ${framework ?? ".NET 10"} dump`, { skip, timeout: 900_000 }, () => {
    test("backtraces name the parked managed frames; threads and modules are the truth file's", () => {
      const d = scenarioDump("full", framework);
      const lines = runExample(d.core);
      const backtraces = new Map<number, string[]>();
      const threads = new Set<string>();
      const modules = new Set<string>();
      for (const line of lines) {
        const words = line.split(" ");
        if (words[0] === "thread") threads.add(`${words[1]} ${words[2]}`);
        else if (words[0] === "module") modules.add(words[1]!);
        else if (/^\d+ /.test(line)) backtraces.set(Number(words[0]), line.slice(words[0]!.length + 1).split(" <- "));
      }
      let named = 0;
      for (const t of d.truth.threads) {
        assert.ok(threads.has(`${t.managedId} ${t.osTid}`), `managed thread ${t.managedId} (tid ${t.osTid}) not listed`);
        const symbols = backtraces.get(t.osTid);
        assert.ok(symbols, `no backtrace of tid ${t.osTid}`);
        // bt names a method without its parameter list ("Scenarios.Parking.WaitOnMonitor").
        const parked = t.frames.filter((f) => f.app).map((f) => f.name.replace(/\(.*$/, ""));
        if (parked.some((name) => symbols.includes(name))) named++;
      }
      // Every parked thread's app frames are named (on .NET 8 too: the DAC names them, with no call to make).
      const parkedThreads = d.truth.threads.filter((t) => t.frames.some((f) => f.app)).length;
      assert.ok(parkedThreads >= 5, `only ${parkedThreads} parked threads in the truth file`);
      assert.equal(named, parkedThreads, `${named} of ${parkedThreads} threads show their parked method`);
      assert.ok(modules.has("scenarios.dll") && modules.has("System.Private.CoreLib.dll"), [...modules].join(", "));
    });
  });
}
