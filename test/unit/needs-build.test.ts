// scripts/needs-build.sh, the demo's decision to rebuild: a missing dist/clrscope.js or any source
// newer than it means `npm run build`; otherwise the demo runs the dist/ it has.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";

const script = join(repoRoot, "scripts", "needs-build.sh");

/** The script's verdict on `root`: whether it asks for a build, and why. */
function verdict(root: string): { build: boolean; why: string } {
  const r = spawnSync("bash", [script, root], { encoding: "utf8" });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  return { build: r.status === 0, why: r.stdout.trim() };
}

describe("needs-build.sh", () => {
  const clone = mkdtempSync(join(tmpdir(), "clrscope-needs-build-"));
  after(() => rmSync(clone, { recursive: true, force: true }));
  const hourAgo = Date.now() / 1000 - 3600;
  /** Writes `path` in the fake clone with a modification time `age` seconds after an hour ago. */
  const write = (path: string, age = 0): void => {
    mkdirSync(dirname(join(clone, path)), { recursive: true });
    writeFileSync(join(clone, path), "x");
    utimesSync(join(clone, path), hourAgo + age, hourAgo + age);
  };
  for (const f of ["src/cli/bin.ts", "src/dump/elf-core.ts", "scripts/bundle.mjs", "tsconfig.json", "package.json", "package-lock.json"]) write(f);

  test("no dist/clrscope.js: build", () => {
    assert.deepEqual(verdict(clone), { build: true, why: "dist/clrscope.js is missing" });
  });

  test("dist/clrscope.js newer than every source: no build; a source touched after it: build, naming it", () => {
    write("dist/clrscope.js", 60);
    assert.deepEqual(verdict(clone), { build: false, why: "" });
    write("src/dump/elf-core.ts", 120);
    assert.deepEqual(verdict(clone), { build: true, why: "src/dump/elf-core.ts is newer than dist/clrscope.js" });
    write("dist/clrscope.js", 180); // rebuilt
    write("tsconfig.json", 240);
    assert.equal(verdict(clone).build, true, "a build setting counts as a source");
  });

  test("the demo asks it before running dist/", () => {
    const demo = readFileSync(join(repoRoot, "scripts", "demo.sh"), "utf8");
    assert.ok(demo.indexOf("scripts/needs-build.sh") >= 0 && demo.indexOf("scripts/needs-build.sh") < demo.indexOf("node dist/clrscope.js"));
  });
});
