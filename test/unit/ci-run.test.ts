// .ci/run's first check: without a working .NET SDK, CI fails (exit 1, one line naming it) before it
// installs or runs anything, instead of passing with every .NET test skipped. `--preflight` runs
// only that check, so the test costs a second, not a CI run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";

const script = join(repoRoot, ".ci", "run");

/** Absolute path of a command on this machine's PATH. */
function which(command: string): string {
  const r = spawnSync("bash", ["-c", `command -v ${command}`], { encoding: "utf8" });
  assert.equal(r.status, 0, `${command} is needed by the test`);
  return r.stdout.trim();
}

describe(".ci/run without a .NET SDK", () => {
  const root = mkdtempSync(join(tmpdir(), "clrscope-ci-run-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  /** A PATH of one directory holding only what the script needs besides dotnet, plus `dotnet` if given. */
  const pathWith = (name: string, dotnet?: string): string => {
    const bin = join(root, name);
    spawnSync("mkdir", ["-p", bin]);
    for (const c of ["bash", "dirname", "grep"]) symlinkSync(which(c), join(bin, c));
    if (dotnet !== undefined) {
      writeFileSync(join(bin, "dotnet"), `#!${which("bash")}\n${dotnet}\n`);
      chmodSync(join(bin, "dotnet"), 0o755);
    }
    return bin;
  };
  const preflight = (path: string) =>
    spawnSync(which("bash"), [script, "--preflight"], { encoding: "utf8", env: { PATH: path, HOME: root, CI: "true" }, timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });

  test("no dotnet on PATH: exit 1 with one ERROR line, nothing installed or built", () => {
    const r = preflight(pathWith("none"));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^ERROR: no dotnet SDK on PATH/m);
    assert.match(r.stdout, /::: dotnet SDK: [\d.]+ s \(exit 1\)/);
    for (const later of ["native tools", "npm ci", "build", "npm test"]) assert.ok(!r.stdout.includes(`::: ${later}`), `${later} must not start:\n${r.stdout}`);
  });

  test("a dotnet that is no SDK (a runtime-only host: `dotnet --version` fails): exit 1 too", () => {
    const r = preflight(pathWith("broken", 'echo "The command could not be loaded, possibly because: No .NET SDKs were found." >&2; exit 145'));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^ERROR: no dotnet SDK on PATH/m);
  });

  test("with an SDK the check passes and names its version (the check can pass: it is not what fails above)", () => {
    const fake = 'case "$1" in --version) echo 10.0.100;; --list-runtimes) echo "Microsoft.NETCore.App 10.0.0 [/x]";; esac';
    const r = preflight(pathWith("sdk", fake));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /dotnet SDK 10\.0\.100/);
    assert.match(r.stdout, /::: dotnet SDK: [\d.]+ s \(exit 0\)/);
  });
});
