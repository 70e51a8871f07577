// The REPL's history file: private, capped, rewritten whole, read only at its end, never
// through a symbolic link, and free of binary junk.
import assert from "node:assert/strict";
import { closeSync, existsSync, ftruncateSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { History } from "../../src/cli/history.js";
import { MAX_HISTORY_LINES } from "../../src/limits.js";

describe("REPL history file", () => {
  const dir = mkdtempSync(join(tmpdir(), "clrscope-history-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  /** A history path in a new empty directory of its own. */
  const fresh = (): string => {
    const d = join(dir, `h${n++}`);
    mkdirSync(d);
    return join(d, ".clrscope_history");
  };

  test("created with mode 0600 even under a permissive umask, one line per command", () => {
    const path = fresh();
    const d = dirname(path);
    const old = process.umask(0);
    try {
      const h = new History(path);
      assert.deepEqual(h.load(), []);
      h.add("thread list");
      h.add("bt all");
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, "utf8"), "thread list\nbt all\n");
    assert.deepEqual(readdirSync(d), [".clrscope_history"], "no temporary file left behind");
  });

  test("an existing file with a wider mode is replaced by a 0600 one", () => {
    const path = fresh();
    writeFileSync(path, "old\n", { mode: 0o644 });
    const h = new History(path);
    assert.deepEqual(h.load(), ["old"]);
    h.add("new");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, "utf8"), "old\nnew\n");
  });

  test(`capped at ${MAX_HISTORY_LINES} lines, trimmed when written; load gives them newest first`, () => {
    const path = fresh();
    writeFileSync(path, Array.from({ length: 1500 }, (_, i) => `cmd ${i}\n`).join(""), { mode: 0o600 });
    const h = new History(path);
    const loaded = h.load();
    assert.equal(loaded.length, MAX_HISTORY_LINES);
    assert.equal(loaded[0], "cmd 1499");
    h.add("latest");
    const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
    assert.equal(lines.length, MAX_HISTORY_LINES);
    assert.equal(lines[0], "cmd 501");
    assert.equal(lines.at(-1), "latest");
  });

  test("a planted symbolic link is refused and its target left untouched", () => {
    const path = fresh();
    const target = join(dir, `target-${n}`);
    writeFileSync(target, "not yours\n", { mode: 0o644 });
    symlinkSync(target, path);
    const said: string[] = [];
    const h = new History(path, (m) => said.push(m));
    assert.deepEqual(h.load(), [], "nothing is read through the link");
    h.add("thread list");
    h.add("bt");
    assert.equal(readFileSync(target, "utf8"), "not yours\n");
    assert.equal(statSync(target).mode & 0o777, 0o644);
    assert.ok(lstatSync(path).isSymbolicLink(), "the link itself is not replaced either");
    assert.equal(said.length, 1, "said once");
    assert.match(said[0]!, /symbolic link; history is not saved/);
  });

  test("a link planted after start is not followed when saving", () => {
    const path = fresh();
    const target = join(dir, `target-late-${n}`);
    writeFileSync(target, "not yours\n");
    const h = new History(path, () => {});
    h.load();
    symlinkSync(target, path);
    h.add("bt");
    assert.equal(readFileSync(target, "utf8"), "not yours\n");
  });

  test("a 300 MB history (sparse) is read only at its end: fast, and its junk is dropped", () => {
    const path = fresh();
    const fd = openSync(path, "w", 0o600);
    ftruncateSync(fd, 300 << 20); // zeros: one huge binary "line"
    writeSync(fd, "\nclrstack\n\x1b[31mred\ncmd\u0000nul\nbt all\n", 300 << 20);
    closeSync(fd);
    const started = process.hrtime.bigint();
    const loaded = new History(path).load();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual(loaded, ["bt all", "clrstack"]);
    assert.ok(ms < 1000, `load took ${ms} ms`);
  });

  test("lines with control characters, replacement characters or excessive length are not recorded", () => {
    const path = fresh();
    const h = new History(path);
    h.load();
    for (const line of ["\x1b[2J", "do 0x1\u0007", "pe \ufffd", "x".repeat(5000), "", "dumpheap -stat"]) h.add(line);
    assert.equal(readFileSync(path, "utf8"), "dumpheap -stat\n");
  });

  test("a history path that is a directory is refused with one message", () => {
    const path = fresh();
    mkdirSync(path);
    const said: string[] = [];
    const h = new History(path, (m) => said.push(m));
    assert.deepEqual(h.load(), []);
    h.add("bt");
    assert.equal(said.length, 1);
    assert.ok(existsSync(path) && statSync(path).isDirectory());
  });
});
