// Text from the target (managed strings, process names, command lines, file names) must not
// drive the user's terminal: control characters are shown as escapes instead of being sent raw.
// JSON output is one line of JSON: JSON.stringify escapes C0 and lone surrogates, and jsonLine
// escapes the rest (DEL, C1, bidirectional overrides, line separators), so a JSON document on a
// terminal is inert too, and parses back to the same text.

import { hexDigits } from "../hex.js";

/** C0 controls but tab and newline, DEL, C1 controls, lone surrogates, bidirectional overrides. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${hexDigits(code, 2)}` : `\\u${hexDigits(code, 4)}`;
}

/** `text` with every character that could act on a terminal written as `\xHH` or `\uHHHH`. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** True when `text` holds nothing escapeForTerminal would escape. */
export function isTerminalSafe(text: string): boolean {
  return !new RegExp(UNSAFE.source).test(text);
}

/** Characters JSON.stringify leaves raw that a terminal may act on (or that end a line in JavaScript). */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One JSON document on one line, with nothing in it a terminal would act on. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (c) => `\\u${hexDigits(c.charCodeAt(0), 4)}`) + "\n";
}
