// What a new user meets first in the session: thread selection errors that name what was typed,
// `help` with aliases and multi-word commands, and tab completion of commands and options.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Session } from "../../src/commands/command.js";
import type { SosThreadsResult } from "../../src/commands/native/thread-select.js";
import { complete } from "../../src/cli/repl.js";
import { runCommand } from "../../src/commands/registry.js";
import { CommandError } from "../../src/errors.js";

/** A session over three threads (1-based indexes 1-3, as NativeProcess numbers them); no dump needed. */
function threeThreadSession(): Session {
  const threads = [1, 2, 3].map((index) => ({ index, tid: 1000 + index }));
  const process = {
    threads,
    thread: (index: number) => threads.find((t) => t.index === index),
    threadByTid: (tid: number) => threads.find((t) => t.tid === tid),
  };
  return { process, currentThread: 1 } as unknown as Session;
}

/** The CommandError `line` fails with. */
function failure(session: Session, line: string): CommandError {
  try {
    runCommand(session, line);
  } catch (e) {
    assert.ok(e instanceof CommandError, `expected a CommandError, got ${String(e)}`);
    return e;
  }
  assert.fail(`'${line}' did not fail`);
}

describe("setthread", () => {
  test("an index past the last thread names the index typed (0-based), not the 1-based one it maps to", () => {
    const e = failure(threeThreadSession(), "setthread 99");
    assert.equal(e.code, "no-such-thread");
    assert.match(e.message, /\bindex 99\b/);
    assert.doesNotMatch(e.message, /100/);
    assert.doesNotMatch(e.message, /\n/);
  });

  test("the last index selects the last thread; thread select keeps lldb's 1-based #N", () => {
    const s = threeThreadSession();
    assert.equal((runCommand(s, "setthread 2").result as SosThreadsResult).current.tid, 1003);
    assert.match(failure(s, "thread select 4").message, /no thread #4 /);
  });
});

describe("help", () => {
  const text = (line: string): string => {
    const { command, result } = runCommand(threeThreadSession(), line);
    return command.render(result);
  };

  test("the list names each command's aliases beside it", () => {
    const lines = text("help").split("\n");
    const row = (usage: string) => lines.find((l) => l.trimStart().startsWith(usage)) ?? assert.fail(`no row for ${usage}`);
    assert.match(row("dumpobj "), /\balso: do\b/);
    assert.match(row("printexception "), /\balso: pe\b/);
    assert.match(row("modules "), /\balso: lm\b/);
    assert.match(row("memory read "), /\balso: x\b/);
    assert.match(row("exit"), /\bquit\b/);
  });

  test("help on the first word of multi-word commands lists those commands", () => {
    const out = text("help thread");
    for (const usage of ["thread list", "thread select N", "bt [all]"]) assert.ok(out.includes(usage), `${usage} in:\n${out}`);
    assert.doesNotMatch(out, /dumpobj|^ *exit/m, "only the thread commands");
    assert.match(text("help THREAD select"), /^Make thread N .*\nusage: thread select N$/);
    assert.match(text("help do"), /usage: dumpobj ADDRESS\naliases: do$/);
  });

  test("help on an unknown command is one unknown-command error naming it", () => {
    const e = failure(threeThreadSession(), "help frobnicate now");
    assert.equal(e.code, "unknown-command");
    assert.equal(e.message, "no command 'frobnicate now' (type 'help' for the list)");
  });
});

describe("tab completion", () => {
  const sorted = (line: string): [string[], string] => {
    const [hits, replaced] = complete(line);
    return [[...hits].sort(), replaced];
  };

  test("after a command's name, the word being typed completes to that command's options", () => {
    assert.deepEqual(sorted("clrstack -a"), [["-a", "-all"], "-a"]);
    assert.deepEqual(sorted("clrstack -all -"), [["-a", "-all", "-l", "-n", "-p"], "-"]);
    assert.deepEqual(sorted("memory read 0x1000 -"), [["-c", "-f", "-s"], "-"], "options after a positional, of a two-word command");
    assert.deepEqual(sorted("x 0x1000 -"), [["-c", "-f", "-s"], "-"], "an alias takes its command's options");
    assert.deepEqual(sorted("dumpmt "), [["-md"], ""]);
    assert.deepEqual(sorted("bt all -"), [["-c"], "-"]);
  });

  test("a word that is not an option after a command completes to nothing (not to the command list)", () => {
    assert.deepEqual(complete("dumpobj 0x12"), [[], "0x12"]);
    assert.deepEqual(complete("dumpil -"), [[], "-"]);
  });

  test("before a command's name, the line completes to command names, several words too", () => {
    assert.deepEqual(sorted("  clrs"), [["clrstack"], "clrs"]);
    assert.deepEqual(sorted("thread s"), [["thread select"], "thread s"]);
    assert.deepEqual(sorted("thread "), [["thread backtrace", "thread list", "thread select"], "thread "]);
    assert.deepEqual(complete("frobnicate"), [[], "frobnicate"]);
  });
});
