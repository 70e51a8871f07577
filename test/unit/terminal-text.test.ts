// Text from the target on its way to a terminal: every character that could act on the
// terminal is shown as an escape, and ordinary text (tab, newline, non-ASCII) is left alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeForTerminal, isTerminalSafe, jsonLine } from "../../src/cli/terminal-text.js";

test("C0 controls (ESC, BEL, CR, NUL, backspace) and DEL are escaped as \\xHH", () => {
  assert.equal(escapeForTerminal("a\x1b[31mred\x1b]0;title\x07"), "a\\x1b[31mred\\x1b]0;title\\x07");
  assert.equal(escapeForTerminal("over\rwrite\x00\x08\x7f"), "over\\x0dwrite\\x00\\x08\\x7f");
});

test("C1 controls (CSI U+009B, OSC U+009D, NEL U+0085) are escaped", () => {
  assert.equal(escapeForTerminal("\u009b31m\u009d0;x\u0085"), "\\x9b31m\\x9d0;x\\x85");
});

test("bidirectional overrides and isolates (Trojan Source) are escaped as \\uHHHH", () => {
  assert.equal(escapeForTerminal("abc\u202edcb\u202c \u2066x\u2069"), "abc\\u202edcb\\u202c \\u2066x\\u2069");
});

test("lone surrogates are escaped; a valid surrogate pair is kept", () => {
  assert.equal(escapeForTerminal("x\ud800y\udc00z"), "x\\ud800y\\udc00z");
  assert.equal(escapeForTerminal("emoji \ud83d\ude00 ok"), "emoji \ud83d\ude00 ok");
  assert.equal(escapeForTerminal("\udc00\ud800"), "\\udc00\\ud800", "a pair in the wrong order is two lone halves");
});

test("tab, newline and ordinary non-ASCII text are kept", () => {
  const text = "col1\tcol2\nSystem.String \"héllo wörld\" 日本語 — ok\n";
  assert.equal(escapeForTerminal(text), text);
  assert.equal(isTerminalSafe(text), true);
});

test("isTerminalSafe agrees with escapeForTerminal and holds no state between calls", () => {
  for (const s of ["\x1b", "ok", "\u009b", "ok", "\ud800", "fine"]) assert.equal(isTerminalSafe(s), escapeForTerminal(s) === s, JSON.stringify(s));
});

test("jsonLine: one line that parses back to the same value, with no raw C1, DEL or bidi override", () => {
  const value = { s: "a\u001b[31mb\u009b2Jc\u007fd\u202ee\u2028f\ud800g" };
  const line = jsonLine(value);
  assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"));
  assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  assert.deepEqual(JSON.parse(line), value);
});
