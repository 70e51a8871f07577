// Strings from the target reach a terminal escaped: a managed string whose characters are
// terminal controls (ESC, the C1 CSI) is shown as \x1b / \x9b in text output, while --json
// carries the characters themselves, written as \u001b / \u009b. The dump is a real
// createdump dump of hello with its truth string patched through the alterations mechanism.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import { fillMemory, writeAlterations } from "../support/dump-patches.js";
import { runAlteredCli } from "../support/cli.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";
/** A System.String's first character follows its MethodTable pointer and its 32-bit length. */
const FIRST_CHAR_OFFSET = 8 + 4;

describe("terminal escapes in target strings", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "clrscope-escapes-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("do shows a managed string's control characters escaped in text, as they are in JSON", () => {
    const d = dotnetDump("hello", "full");
    const s = d.truth.objects.string;
    const address = Number(s.address);
    // UTF-16LE: the first character becomes U+001B (ESC), the second U+009B (CSI).
    const patches = [...fillMemory(d.core, address + FIRST_CHAR_OFFSET, 1, 0x1b), ...fillMemory(d.core, address + FIRST_CHAR_OFFSET + 2, 1, 0x9b)];
    const alterations = writeAlterations(dir, "escape", patches);
    const expected = "\u001b\u009b" + s.value.slice(2);

    const text = runAlteredCli(alterations, ["analyze", d.core, "-c", `do ${s.address}`]);
    assert.equal(text.status, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /[\u001b\u009b]/, "no raw control character reaches the terminal");
    assert.ok(text.stdout.includes(`\\x1b\\x9b${s.value.slice(2)}`), text.stdout);

    const json = runAlteredCli(alterations, ["analyze", d.core, "--json", "-c", `do ${s.address}`]);
    assert.equal(json.status, 0, json.stderr);
    const doc = json.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { command: string; result?: { string?: string } })
      .find((x) => x.command === `do ${s.address}`);
    assert.equal(doc?.result?.string, expected, "JSON keeps the text itself");
    assert.doesNotMatch(json.stdout, /[\u001b\u009b]/, "JSON escapes ESC and CSI");
  });
});
