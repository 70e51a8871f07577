// Symbol tables (lookup by address, ranking of aliases), separate debug file search order, and
// the command-line plumbing: tokenize, parseNumber, parseArgs, findCommand.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseArgs, parseNumber, tokenize } from "../../src/commands/command.js";
import { findCommand } from "../../src/commands/registry.js";
import { CommandError } from "../../src/errors.js";
import { debugFileCandidates, findDebugFile } from "../../src/native/debug-files.js";
import { ElfFile } from "../../src/native/elf-file.js";
import { SymbolTableBuilder, type SymbolTable } from "../../src/native/symbol-table.js";

interface Sym {
  value: number;
  size: number;
  name: string;
}

/** A table built the way ELF readers feed it: one string table, names by offset. */
function table(symbols: Sym[]): SymbolTable {
  const b = new SymbolTableBuilder();
  const names = symbols.map((s) => s.name);
  const offsets: number[] = [];
  const bytes: number[] = [0];
  for (const n of names) {
    offsets.push(bytes.length);
    bytes.push(...Buffer.from(n, "utf8"), 0);
  }
  const strtab = b.addStringTable(Uint8Array.from(bytes));
  symbols.forEach((s, i) => b.add(s.value, s.size, strtab, offsets[i]!));
  return b.build();
}

describe("SymbolTable", () => {
  const t = table([
    { value: 0x1000, size: 0x20, name: "sized" },
    { value: 0x1100, size: 0, name: "unsized_asm" },
    { value: 0x1200, size: 0x10, name: "after_asm" },
    { value: 0x0800, size: 0x10, name: "first" }, // out of order on input
  ]);

  test("a sized symbol covers exactly its bytes", () => {
    assert.deepEqual(t.lookup(0x1000), { name: "sized", value: 0x1000, size: 0x20, offset: 0 });
    assert.deepEqual(t.lookup(0x101f), { name: "sized", value: 0x1000, size: 0x20, offset: 0x1f });
    assert.equal(t.lookup(0x1020), undefined, "gap after a sized symbol");
    assert.equal(t.lookup(0x10ff), undefined);
  });

  test("an unsized symbol covers up to the next symbol", () => {
    assert.equal(t.lookup(0x1100)?.name, "unsized_asm");
    assert.deepEqual(t.lookup(0x11ff), { name: "unsized_asm", value: 0x1100, size: 0, offset: 0xff });
    assert.equal(t.lookup(0x1200)?.name, "after_asm");
    assert.equal(t.lookup(0x1210), undefined);
  });

  test("addresses below the first symbol have none; input order does not matter", () => {
    assert.equal(t.lookup(0x7ff), undefined);
    assert.equal(t.lookup(0), undefined);
    assert.equal(t.lookup(0x0808)?.name, "first");
    assert.equal(t.count, 4);
  });

  test("plain names win over underscored and unsized aliases at the same address; versions are dropped", () => {
    const aliases: Sym[] = [
      { value: 0x2000, size: 0x40, name: "clock_nanosleep@GLIBC_2.2.5" },
      { value: 0x2000, size: 0x40, name: "__clock_nanosleep" },
      { value: 0x2000, size: 0x40, name: "clock_nanosleep" },
      { value: 0x2000, size: 0x40, name: "_clock_nanosleep" },
    ];
    for (const order of [aliases, [...aliases].reverse(), [aliases[2]!, aliases[0]!, aliases[1]!, aliases[3]!]]) {
      const tt = table(order);
      assert.equal(tt.lookup(0x2010)?.name, "clock_nanosleep");
      assert.equal(tt.count, 1, "aliases collapse to one entry");
    }
    // The version suffix is dropped from the name shown, and a versioned public name beats
    // an internal underscored alias (the debug file's .symtab has no unversioned public name).
    assert.equal(table([aliases[0]!, aliases[1]!]).lookup(0x2000)?.name, "clock_nanosleep", "a versioned public name beats an underscore");
    assert.equal(table([aliases[1]!, aliases[3]!]).lookup(0x2000)?.name, "_clock_nanosleep", "one underscore beats two");
    const sizedWins = table([
      { value: 0x3000, size: 0, name: "memcpy" },
      { value: 0x3000, size: 0x80, name: "memcpy_impl" },
    ]);
    assert.deepEqual(sizedWins.lookup(0x3010), { name: "memcpy_impl", value: 0x3000, size: 0x80, offset: 0x10 });
  });

  test("empty names are skipped; find returns every address of a name", () => {
    const b = new SymbolTableBuilder();
    const strtab = b.addStringTable(Uint8Array.from([0, ...Buffer.from("dup"), 0]));
    b.add(0x100, 8, strtab, 0); // "" (offset of the leading NUL)
    b.add(0x200, 8, strtab, 99); // past the table
    b.add(0x300, 8, strtab, 1);
    b.add(0x400, 8, strtab, 1);
    const tt = b.build();
    assert.equal(tt.count, 2);
    assert.equal(tt.lookup(0x104), undefined);
    assert.deepEqual(tt.find("dup"), [0x300, 0x400]);
    assert.deepEqual(tt.find("nope"), []);
  });

  test("an empty table finds nothing", () => {
    assert.equal(table([]).lookup(0x1000), undefined);
  });
});

describe("separate debug files", () => {
  test("candidates: build-id first (in directory order), then by name, then gdb's debuglink places", () => {
    const c = debugFileCandidates({ buildId: "abcdef0123", path: "/opt/app/lib/libfoo.so.1", debugLink: "libfoo.debug" }, ["/sym", "/usr/lib/debug"]);
    assert.deepEqual(c.slice(0, 2), ["/sym/.build-id/ab/cdef0123.debug", "/usr/lib/debug/.build-id/ab/cdef0123.debug"]);
    const at = (p: string) => {
      const i = c.indexOf(p);
      assert.ok(i >= 0, `${p} is a candidate: ${JSON.stringify(c)}`);
      return i;
    };
    // gdb's debuglink order: next to the file, its .debug/ folder, then under each global dir.
    assert.ok(at("/opt/app/lib/libfoo.debug") < at("/opt/app/lib/.debug/libfoo.debug"));
    assert.ok(at("/opt/app/lib/.debug/libfoo.debug") < at("/sym/opt/app/lib/libfoo.debug"));
    assert.ok(at("/sym/opt/app/lib/libfoo.debug") < at("/usr/lib/debug/opt/app/lib/libfoo.debug"));
    assert.ok(at("/sym/libfoo.so.1.debug") < at("/usr/lib/debug/libfoo.so.1.debug"), "--symbols dirs before system ones");
  });

  test("no build-id (or a too-short one): no .build-id paths; no debuglink: no debuglink paths", () => {
    for (const buildId of [undefined, "", "ab"]) {
      const c = debugFileCandidates({ buildId, path: "/lib/libx.so" }, ["/d"]);
      assert.ok(c.every((p) => !p.includes(".build-id")), JSON.stringify(c));
      assert.ok(c.every((p) => p.startsWith("/d/")), "only the given dirs, by file name");
    }
  });

  test("findDebugFile takes a candidate only when its build-id matches", () => {
    const real = new ElfFile("/bin/true");
    const id = real.buildId;
    real.close();
    assert.ok(id && id.length > 2, "/bin/true has a build-id");
    const dir = mkdtempSync(join(tmpdir(), "clrscope-debug-"));
    try {
      const place = (buildId: string) => {
        const sub = join(dir, ".build-id", buildId.slice(0, 2));
        mkdirSync(sub, { recursive: true });
        copyFileSync("/bin/true", join(sub, `${buildId.slice(2)}.debug`));
      };
      place(id);
      const found = findDebugFile({ buildId: id, path: "/somewhere/true" }, [dir]);
      assert.equal(found?.path, join(dir, ".build-id", id.slice(0, 2), `${id.slice(2)}.debug`));
      found?.close();
      // The same bytes under another build-id's name are not that module's debug file.
      const other = (id.startsWith("00") ? "11" : "00") + id.slice(2);
      place(other);
      assert.equal(findDebugFile({ buildId: other, path: "/somewhere/true" }, [dir]), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("command plumbing", () => {
  test("tokenize: whitespace and double quotes", () => {
    assert.deepEqual(tokenize("image lookup -a 0x10"), ["image", "lookup", "-a", "0x10"]);
    assert.deepEqual(tokenize("   bt   all  "), ["bt", "all"]);
    assert.deepEqual(tokenize('image lookup -n "my func" x'), ["image", "lookup", "-n", "my func", "x"]);
    assert.deepEqual(tokenize('""'), [""]);
    assert.deepEqual(tokenize(""), []);
    assert.deepEqual(tokenize("\t"), []);
  });

  test("parseNumber: 0x hex, decimal, bare hex with letters, backticks", () => {
    assert.equal(parseNumber("0x10"), 16);
    assert.equal(parseNumber("0X1F"), 31);
    assert.equal(parseNumber("10"), 10, "digits only: decimal");
    assert.equal(parseNumber("7f12a000"), 0x7f12a000, "letters: hex (SOS style)");
    assert.equal(parseNumber("ff"), 255);
    assert.equal(parseNumber("00007f12`a000"), 0x7f12a000, "windbg backtick");
    assert.equal(parseNumber("  0x20  "), 32);
    assert.equal(parseNumber("0x1fffffffffffff"), Number.MAX_SAFE_INTEGER);
    for (const bad of ["", "0x", "-1", "xyz", "0x12g", "1.5", "0x20000000000000", "99999999999999999999"]) {
      assert.throws(() => parseNumber(bad), CommandError, `'${bad}'`);
    }
    assert.throws(() => parseNumber("zz", "thread index"), /thread index/);
  });

  test("parseArgs: values, switches, positionals, negative numbers", () => {
    const p = parseArgs(["-c", "4", "-v", "foo", "-5", "-"], ["-c"], ["-v"]);
    assert.deepEqual(p.positional, ["foo", "-5", "-"]);
    assert.deepEqual([...p.values], [["-c", "4"]]);
    assert.deepEqual([...p.switches], ["-v"]);
    assert.throws(() => parseArgs(["-c"], ["-c"]), (e: unknown) => e instanceof CommandError && e.code === "usage");
    assert.throws(() => parseArgs(["-x"], ["-c"], ["-v"]), (e: unknown) => e instanceof CommandError && /-x/.test(e.message));
    const last = parseArgs(["-c", "1", "-c", "2"], ["-c"]);
    assert.equal(last.values.get("-c"), "2");
  });

  test("findCommand: the longest multi-word name wins; the rest are arguments", () => {
    const bt = findCommand("thread backtrace all");
    assert.ok(bt.command.names.includes("bt"));
    assert.deepEqual(bt.args, ["all"]);
    const short = findCommand("bt all");
    assert.equal(short.command, bt.command);
    assert.deepEqual(short.args, ["all"]);
    const lookup = findCommand("image lookup -a 0x10");
    assert.ok(lookup.command.names.includes("image lookup"));
    assert.deepEqual(lookup.args, ["-a", "0x10"]);
    const list = findCommand("image list -v");
    assert.ok(list.command.names.includes("image list"));
    assert.notEqual(list.command, lookup.command);
    assert.ok(findCommand("thread list").command.names.includes("thread list"));
    assert.ok(findCommand("thread select 2").command.names.includes("thread select"));
    assert.ok(findCommand("THREAD BACKTRACE").command.names.includes("bt"), "names are case-insensitive");
    assert.deepEqual(findCommand('memory read "0x10"').args, ["0x10"]);
  });

  test("findCommand: unknown or partial commands are a CommandError", () => {
    for (const line of ["frobnicate", "image", "thread", "", "   "]) {
      assert.throws(() => findCommand(line), (e: unknown) => e instanceof CommandError && e.code === "unknown-command", `'${line}'`);
    }
  });
});
