// What the CLI writes, and where, when the output or the request is not ordinary: a full disk
// (`> /dev/full`), a reader that goes away (`| head`), a request past an output cap, terminal
// escapes in a file name, and the REPL fed by a pipe with --json (JSON Lines only).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ExitCode } from "../../src/errors.js";
import { MAX_DISASSEMBLE_INSTRUCTIONS } from "../../src/limits.js";
import { cliPath, runCli, runCliJson } from "../support/cli.js";
import { nativeCore, type NativeCore } from "../support/native-fixtures.js";

describe("CLI output: full disk, closed pipe, caps, escapes, piped REPL", () => {
  let fx: NativeCore;
  const home = mkdtempSync(join(tmpdir(), "clrscope-cli-output-"));
  before(() => {
    fx = nativeCore("chains");
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test("stdout on a full device (> /dev/full): one line, exit 74, no stack trace", () => {
    for (const args of [["-c", "thread list"], []]) {
      const full = openSync("/dev/full", "w");
      try {
        // [] is the REPL, its command piped in; its output is written by the main thread.
        const r = spawnSync(process.execPath, [cliPath, "analyze", fx.core, "--exe", fx.exe, ...args], {
          input: "thread list\n",
          stdio: ["pipe", full, "pipe"],
          encoding: "utf8",
          timeout: 60_000,
          env: { ...process.env, HOME: home },
        });
        assert.equal(r.status, ExitCode.outputFailed, `${args.join(" ") || "REPL"}: ${r.stderr}`);
        assert.equal(r.stderr, "clrscope: cannot write the output: no space left on the device (ENOSPC)\n");
      } finally {
        closeSync(full);
      }
    }
  });

  test("a reader that goes away (| head -c 1) ends the run quietly with exit 0", () => {
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${cliPath}" analyze "${fx.core}" --exe "${fx.exe}" -c "bt all" -c "disassemble -c 20000" | head -c 1 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.stderr, "status 0\n");
  });

  test(`disassemble -c past its cap (${MAX_DISASSEMBLE_INSTRUCTIONS}) is a usage error, at once`, () => {
    const started = Date.now();
    const { docs, status } = runCliJson(fx.core, [`disassemble -c ${MAX_DISASSEMBLE_INSTRUCTIONS + 1}`, "disassemble -c 100000000", "disassemble -c 3"], ["--exe", fx.exe]);
    assert.equal(status, ExitCode.commandFailed);
    for (const d of docs.slice(1, 3)) {
      assert.equal(d.error?.code, "usage", JSON.stringify(d));
      assert.match(d.error!.message, new RegExp(`more than ${MAX_DISASSEMBLE_INSTRUCTIONS} instructions`));
    }
    assert.equal(docs[3]!.result?.instructions.length, 3, "a count under the cap still works");
    assert.ok(Date.now() - started < 30_000, "refused without decoding");
  });

  test("a file name with terminal escapes is shown escaped", () => {
    const name = join(home, "evil\x1b]0;owned\x07\x1b[31m\u202e.core");
    const r = runCli(["analyze", name, "-c", "thread list"], { timeout: 60_000 });
    assert.equal(r.status, ExitCode.cannotRead);
    assert.doesNotMatch(r.stderr, /[\x1b\x07\u202e]/, "no raw escape reaches the terminal");
    assert.ok(r.stderr.includes("evil\\x1b]0;owned\\x07\\x1b[31m\\u202e.core: no such file"), r.stderr);
  });

  test("the REPL fed by a pipe with --json writes JSON Lines only (no prompt) and records no history", () => {
    const r = runCli(["analyze", fx.core, "--exe", fx.exe, "--json"], { input: "thread list\nbt\nexit\n", timeout: 60_000, env: { ...process.env, HOME: home } });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { command: string }).command),
      ["open", "thread list", "bt"],
    );
    assert.equal(r.stderr, "");
    assert.deepEqual(readdirSync(home), [], "piped commands are not history");
  });
});
