// A fresh clone, as a new user gets it: `npm pack` builds before packing (the tarball holds the
// bin and the library, not only the README), and the two ways the README gives to run clrscope
// from a clone work there.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";

/** Runs `command` to completion; fails the test with its stderr when it does not exit 0. */
function run(command: string, args: string[], options: SpawnSyncOptions): string {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 300_000, ...options });
  assert.equal(r.status, 0, `${command} ${args.join(" ")}: ${r.error?.message ?? ""}${String(r.stderr)}`);
  return String(r.stdout);
}

describe("a fresh clone", () => {
  let clone: string;
  before(() => {
    // The files a clone has (tracked, plus new ones not ignored): no dist/, no .cache/.
    clone = mkdtempSync(join(tmpdir(), "clrscope-clone-"));
    const files = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot }).split("\0").filter((f) => f !== "" && existsSync(join(repoRoot, f)));
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(repoRoot, f), join(clone, f));
    }
    assert.ok(!existsSync(join(clone, "dist")), "the copy starts without a build");
    symlinkSync(join(repoRoot, "node_modules"), join(clone, "node_modules")); // as `npm ci` left it
  });
  after(() => rmSync(clone, { recursive: true, force: true }));

  test("npm pack builds first: the tarball holds the bin, the library and everything package.json names", () => {
    const [pack] = JSON.parse(run("npm", ["pack", "--dry-run", "--json"], { cwd: clone })) as [{ files: { path: string }[] }];
    const packed = new Set(pack.files.map((f) => f.path));
    const pkg = JSON.parse(readFileSync(join(clone, "package.json"), "utf8")) as { files: string[]; bin: Record<string, string>; main: string; types: string; exports: Record<string, string> };
    for (const entry of pkg.files) assert.ok([...packed].some((p) => p === entry || p.startsWith(`${entry}/`)), `nothing packed from "files" entry ${entry}`);
    for (const target of [...Object.values(pkg.bin), pkg.main, pkg.types, ...Object.values(pkg.exports)]) {
      assert.ok(packed.has(target.replace(/^\.\//, "")), `${target} (named in package.json) is not packed`);
    }
    assert.ok(packed.has("dist/src/cli/session-worker.js"));
    assert.deepEqual([...packed].filter((p) => p.startsWith("dist/test/") || p.startsWith("src/")), [], "tests and TypeScript sources stay out");
  });

  test("the README's ways to run it from a clone work: npx clrscope and node dist/clrscope.js", () => {
    const readme = readFileSync(join(clone, "README.md"), "utf8");
    assert.match(readme, /npx clrscope /);
    assert.match(readme, /node dist\/clrscope\.js /);
    if (!existsSync(join(clone, "dist", "clrscope.js"))) run("npm", ["run", "build"], { cwd: clone }); // when run alone
    const version = `clrscope ${(JSON.parse(readFileSync(join(clone, "package.json"), "utf8")) as { version: string }).version}`;
    // Offline: npx must run the clone's own bin, not fetch a package of that name.
    assert.equal(run("npx", ["clrscope", "--version"], { cwd: clone, env: { ...process.env, npm_config_offline: "true" } }).trim(), version);
    assert.equal(run("node", ["dist/clrscope.js", "--version"], { cwd: clone }).trim(), version);
  });
});
