// Every command renders text, and every renderer has golden tests on hand-written results
// (test/unit/render-*.test.ts): a command added without them fails here, by name.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { COMMANDS } from "../../src/commands/registry.js";
import { repoRoot } from "../support/cache.js";

test("each command's renderer is the subject of a golden test suite", () => {
  const dir = join(repoRoot, "test", "unit");
  const suites = readdirSync(dir)
    .filter((f) => /^render-.*\.test\.ts$/.test(f))
    .flatMap((f) => [...readFileSync(join(dir, f), "utf8").matchAll(/describe\("([^"]+)"/g)].map((m) => m[1]!));
  assert.ok(suites.length > 10, suites.join(", "));
  // A suite covers a command when its title names the command's canonical name as words ("dumpmt renderer", "image list, image lookup, ...").
  const covered = (name: string) => suites.some((s) => new RegExp(`(^|[ ,/])${name.replace(/ /g, " ")}([ ,/]|$)`).test(s));
  const missing = COMMANDS.map((c) => c.names[0]!).filter((name) => !covered(name));
  assert.deepEqual(missing, [], `commands without golden renderer tests in test/unit/render-*.test.ts: ${missing.join(", ")}`);
});
