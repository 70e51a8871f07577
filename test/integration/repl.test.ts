// The interactive prompt on a real pseudo-terminal (python3's pty module): Ctrl-C stops a long
// command and the session goes on, Ctrl-C at the prompt clears the line, Ctrl-D ends with a
// newline and exit 0, and typed commands (only those) go to a private history file.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_DISASSEMBLE_INSTRUCTIONS } from "../../src/limits.js";
import { runCliJson } from "../support/cli.js";
import { nativeCore, type NativeCore } from "../support/native-fixtures.js";
import { CTRL_C, CTRL_D, PtyCli } from "../support/pty.js";

/** The prompt, at the start of a terminal line. */
const PROMPT = /(^|\n)> $/;
/** Ctrl-C at the prompt: "^C", then a fresh prompt on the next line (readline redraws it, hence maybe twice without the cursor moves). */
const CLEARED = /\^C\r?\n(> )+$/;

describe("REPL on a terminal: Ctrl-C, Ctrl-D, history", () => {
  let fx: NativeCore;
  /** A code address with more than MAX_DISASSEMBLE_INSTRUCTIONS instructions after it: libc's text. */
  let codeStart: string;
  const home = mkdtempSync(join(tmpdir(), "clrscope-repl-"));
  const sessions: PtyCli[] = [];
  const start = (): PtyCli => {
    const s = new PtyCli(["analyze", fx.core, "--exe", fx.exe], { ...process.env, HOME: home, TERM: "xterm" });
    sessions.push(s);
    return s;
  };

  before(() => {
    // 170 threads of deep CFI-unwound stacks: the biggest native fixture.
    fx = nativeCore("many");
    const { docs } = runCliJson(fx.core, ["thread list"], ["--exe", fx.exe]);
    codeStart = docs[1]!.result.threads[0].ip as string;
  });
  after(() => {
    for (const s of sessions) s.kill();
    rmSync(home, { recursive: true, force: true });
  });

  test("Ctrl-C during a long command returns to the prompt, and the next command runs", async () => {
    const s = start();
    let at = await s.waitFor(PROMPT);
    // Decoding and annotating the cap's 100,000 instructions takes seconds here (about 2 s).
    s.type(`disassemble -s ${codeStart} -c ${MAX_DISASSEMBLE_INSTRUCTIONS}\r`);
    await new Promise((r) => setTimeout(r, 300));
    const pressed = Date.now();
    s.type(CTRL_C);
    at = await s.waitFor(/clrscope: interrupted\r?\n/, at);
    const stoppedIn = Date.now() - pressed;
    at = await s.waitFor(PROMPT, at);
    assert.ok(stoppedIn < 2000, `stopped ${stoppedIn} ms after Ctrl-C`);
    assert.doesNotMatch(s.output, /0x[0-9a-f]{16}: /, "no instruction of the cancelled command is shown");
    s.type("thread list\r");
    at = await s.waitFor(/thread #170: tid = \d+/, at);
    await s.waitFor(PROMPT, at);
    s.type(CTRL_D);
    assert.equal(await s.exited, 0);
  });

  test("Ctrl-C at the prompt clears the line and does not end the session; Ctrl-D exits 0 after a newline", async () => {
    const s = start();
    let at = await s.waitFor(PROMPT);
    s.type("thread lis");
    s.type(CTRL_C);
    at = await s.waitFor(CLEARED, at);
    s.type(CTRL_C); // a second one at an empty prompt does not exit either
    at = await s.waitFor(CLEARED, at);
    s.type("bt\r");
    at = await s.waitFor(/frame #0: 0x[0-9a-f]+ /, at);
    at = await s.waitFor(PROMPT, at);
    assert.doesNotMatch(s.output, /unknown command/, "the cleared text did not reach the session");
    s.type(CTRL_D);
    assert.equal(await s.exited, 0);
    assert.match(s.output.slice(at), /^\r?\n$/, "Ctrl-D leaves a newline");
  });

  test("Tab completes a command name", async () => {
    const s = start();
    let at = await s.waitFor(PROMPT);
    s.type("clrthr\t");
    at = await s.waitFor(/clrthreads$/, at);
    s.type("\r");
    // A native core: the command runs and says there is no .NET runtime.
    await s.waitFor(/clrscope: [^\n]*runtime[^\n]*\r?\n/i, at);
    s.type("exit\r");
    assert.equal(await s.exited, 0);
  });

  test("Tab completes a command's option on the terminal", async () => {
    const s = start();
    let at = await s.waitFor(PROMPT);
    s.type("bt -\t");
    at = await s.waitFor(/bt -c$/, at);
    s.type(" 1\r");
    at = await s.waitFor(/frame #0: 0x[0-9a-f]+ /, at);
    s.type("exit\r");
    assert.equal(await s.exited, 0);
  });

  test("typed commands are kept in a private history; the prompt recalls them", async () => {
    const history = join(home, ".clrscope_history");
    rmSync(history, { force: true });
    const s = start();
    let at = await s.waitFor(PROMPT);
    s.type("status\r");
    at = await s.waitFor(PROMPT, at);
    s.type("thread select 2\r");
    at = await s.waitFor(PROMPT, at);
    s.type(CTRL_D);
    assert.equal(await s.exited, 0);
    assert.equal(readFileSync(history, "utf8"), "status\nthread select 2\n");
    assert.equal(statSync(history).mode & 0o777, 0o600);

    // A new session: Up recalls the last command.
    const again = start();
    at = await again.waitFor(PROMPT);
    again.type("\x1b[A\r");
    await again.waitFor(/thread #2/, at);
    again.type("exit\r");
    assert.equal(await again.exited, 0);
    assert.equal(readFileSync(history, "utf8"), "status\nthread select 2\nthread select 2\nexit\n");
  });
});
