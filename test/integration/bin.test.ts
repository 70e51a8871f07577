// The package's bin (dist/clrscope.js, the bundled CLI) behaves exactly like the modules it is
// built from.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../support/cache.js";
import { runCli } from "../support/cli.js";
import { nativeCore } from "../support/native-fixtures.js";

const run = (entry: string, args: string[]) => runCli(args, { script: join(repoRoot, "dist", ...entry.split("/")), timeout: 60_000 });

test("the bundled bin prints the package version and the same results as the modules", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string; bin: Record<string, string> };
  assert.equal(pkg.bin.clrscope, "dist/clrscope.js");
  assert.equal(run("clrscope.js", ["--version"]).stdout.trim(), `clrscope ${pkg.version}`);
  const { exe, core } = nativeCore("chains");
  const args = ["analyze", core, "--exe", exe, "--json", "-c", "thread list", "-c", "bt all", "-c", "disassemble -c 3"];
  const bundled = run("clrscope.js", args);
  const modules = run("src/cli/bin.js", args);
  assert.equal(bundled.status, 0, bundled.stderr);
  assert.ok(bundled.stdout.includes('"command":"bt all"'));
  assert.equal(bundled.stdout, modules.stdout);
});

test("the bundled bin runs the REPL's session worker from its own file", () => {
  const { exe, core } = nativeCore("chains");
  const args = ["analyze", core, "--exe", exe, "--json"];
  const input = "thread list\nbt all\n";
  const bundled = runCli(args, { script: join(repoRoot, "dist", "clrscope.js"), input, timeout: 60_000, env: { ...process.env, HOME: "/nonexistent" } });
  const modules = runCli(args, { input, timeout: 60_000, env: { ...process.env, HOME: "/nonexistent" } });
  assert.equal(bundled.status, 0, bundled.stderr);
  assert.equal(bundled.stderr, "");
  assert.ok(bundled.stdout.includes('"command":"bt all"'));
  assert.equal(bundled.stdout, modules.stdout);
});
