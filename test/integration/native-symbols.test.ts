// Symbols from places other than the module file, on real gcore cores:
//  - splitdebug: a thread parked in a stripped shared library whose debug info was split into a
//    separate file laid out as DIR/.build-id/xx/yyyy.debug; only --symbols DIR names its static
//    function. Oracles: nm on the debug file, gdb with that debug-file-directory.
//  - deletedlib: a thread parked in a dlopen()ed library whose file was unlinked before the
//    dump; the module is still listed, and its exported function is named from the dynamic
//    symbol table in the dump's memory.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { before, describe, test } from "node:test";
import { runCliJson, type CliFrame, type CliThread } from "../support/cli.js";
import { gdbBacktraces, type GdbThread } from "../support/gdb-oracle.js";
import { nativeCore, readelfBuildId, type NativeCore } from "../support/native-fixtures.js";

interface Image {
  name: string;
  path: string;
  base: string;
  buildId: string | null;
  file: string;
  foundBy: string[];
  symbols?: { source: string; from: string | null; count: number };
}

function analyze(fx: NativeCore, commands: string[], extra: string[] = []): Map<string, any> {
  const { docs, status, stderr, stdout } = runCliJson(fx.core, commands, ["--exe", fx.exe, ...extra]);
  assert.equal(status, 0, `clrscope failed (${status}): ${stderr}\n${stdout}`);
  const out = new Map<string, any>();
  for (const c of commands) {
    const d = docs.find((x) => x.command === c);
    assert.ok(d?.result, `no result for ${c}: ${JSON.stringify(d)}`);
    out.set(c, d.result);
  }
  return out;
}

const describeFrames = (t: CliThread) => t.frames.map((f) => `#${f.index} ${f.ip} ${f.module ?? "?"}\`${f.symbol ?? "??"} (${f.trust})`).join("\n");

/** The thread with a frame in module `lib`. */
function threadIn(threads: CliThread[], lib: string): CliThread {
  const t = threads.find((x) => x.frames.some((f) => f.module !== null && basename(f.module) === lib));
  assert.ok(t, `no thread has a frame in ${lib}:\n${threads.map(describeFrames).join("\n\n")}`);
  return t;
}

/** Function symbols (t/T) of an ELF file, by nm: name -> link-time value. */
function nmFunctions(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of execFileSync("nm", ["--defined-only", path], { encoding: "utf8" }).split("\n")) {
    const [value, type, name] = line.trim().split(/\s+/);
    if ((type === "t" || type === "T") && name && value) out.set(name, parseInt(value, 16));
  }
  return out;
}

describe("split debug info found by build-id (--symbols)", () => {
  let fx: NativeCore;
  let symbolsDir: string;
  let debugFile: string;
  let libPath: string;
  before(() => {
    fx = nativeCore("splitdebug");
    symbolsDir = join(fx.dir, "symbols");
    libPath = join(fx.dir, "lib", "libparked.so");
    const id = readelfBuildId(libPath);
    debugFile = join(symbolsDir, ".build-id", id.slice(0, 2), `${id.slice(2)}.debug`);
  });

  test("the fixture is what the test assumes: stripped library, debug file by build-id only", () => {
    assert.ok(existsSync(debugFile), `${debugFile} missing`);
    const libSyms = nmFunctions(debugFile);
    assert.ok(libSyms.has("lib_inner") && libSyms.has("lib_outer"), "debug file names both functions");
    const dyn = execFileSync("nm", ["-D", "--defined-only", libPath], { encoding: "utf8" });
    assert.match(dyn, /\blib_outer\b/);
    assert.doesNotMatch(dyn, /\blib_inner\b/);
    const sections = execFileSync("readelf", ["-S", "-W", libPath], { encoding: "utf8" });
    assert.doesNotMatch(sections, /\.symtab/, "library is stripped");
    assert.match(sections, /\.gnu_debuglink/);
    assert.deepEqual(readdirSync(join(fx.dir, "lib")), ["libparked.so"], "no debug file next to the library");
  });

  test("without --symbols: library frames are there, the static function is not named", () => {
    const r = analyze(fx, ["bt all", "image list -v"]);
    const t = threadIn(r.get("bt all").threads, "libparked.so");
    const libFrames = t.frames.filter((f) => f.module !== null && basename(f.module) === "libparked.so");
    assert.equal(libFrames.length, 2, describeFrames(t));
    assert.ok(t.frames.every((f) => f.symbol !== "lib_inner"), describeFrames(t));
    assert.equal(libFrames[1]!.symbol, "lib_outer", "the exported function is named from .dynsym");
    const image = (r.get("image list -v").images as Image[]).find((m) => m.name === "libparked.so");
    assert.ok(image?.symbols, "libparked.so listed with symbol info");
    assert.equal(image.symbols.source, "file", "the stripped file's .dynsym");
  });

  test("with --symbols DIR: lib_inner and lib_outer in order, from the debug file", () => {
    const r = analyze(fx, ["bt all", "image list -v"], ["--symbols", symbolsDir]);
    const t = threadIn(r.get("bt all").threads, "libparked.so");
    const names = t.frames.map((f) => f.symbol);
    const i = names.indexOf("lib_inner");
    assert.ok(i >= 0, describeFrames(t));
    assert.deepEqual(names.slice(i, i + 3), ["lib_inner", "lib_outer", "worker_lib"], describeFrames(t));
    // Offsets agree with nm on the debug file: ip = base + st_value + offset (link base 0).
    const image = (r.get("image list -v").images as Image[]).find((m) => m.name === "libparked.so");
    assert.ok(image?.symbols, "libparked.so listed with symbol info");
    assert.equal(image.symbols.source, "debug-file");
    assert.ok(image.symbols.from && image.symbols.from.endsWith(basename(debugFile)), `symbols from ${image.symbols.from}`);
    const nm = nmFunctions(debugFile);
    const base = parseInt(image.base, 16);
    for (const f of t.frames.slice(i, i + 2)) {
      assert.equal(parseInt(f.ip, 16) - base, nm.get(f.symbol!)! + f.offset!, `${f.symbol}+${f.offset} at ${f.ip}`);
    }
  });

  test("image lookup -a names lib_inner with --symbols", () => {
    const bt = analyze(fx, ["bt all"], ["--symbols", symbolsDir]).get("bt all");
    const frame = threadIn(bt.threads, "libparked.so").frames.find((f: CliFrame) => f.symbol === "lib_inner");
    assert.ok(frame);
    const cmd = `image lookup -a ${frame.ip}`;
    const withSyms = analyze(fx, [cmd], ["--symbols", symbolsDir]).get(cmd);
    assert.equal(withSyms.symbol, "lib_inner");
    assert.equal(withSyms.module, "libparked.so");
    const without = analyze(fx, [cmd]).get(cmd);
    assert.notEqual(without.symbol, "lib_inner");
  });

  test("gdb with the same debug-file-directory agrees on the function order", () => {
    // -iex: the directory must be set before gdb loads the core's shared libraries.
    const gdb = gdbBacktraces(fx.exe, fx.core, ["-iex", `set debug-file-directory ${symbolsDir}:/usr/lib/debug`]);
    const ours = analyze(fx, ["bt all"], ["--symbols", symbolsDir]).get("bt all").threads as CliThread[];
    const fns = new Set([...nmFunctions(fx.exe).keys(), ...nmFunctions(debugFile).keys()]);
    const gdbThread = gdb.find((t: GdbThread) => t.frames.some((f) => f.fn === "lib_inner"));
    assert.ok(gdbThread, "gdb names lib_inner too (else the oracle is not using the debug file)");
    const ourThread = ours.find((t) => t.tid === gdbThread.tid);
    assert.ok(ourThread, `thread ${gdbThread.tid} missing from clrscope output`);
    const upToMain = (names: string[]) => names.slice(0, names.indexOf("main") + 1 || names.length);
    const expected = upToMain(gdbThread.frames.map((f) => f.fn).filter((n) => fns.has(n)));
    const actual = upToMain(ourThread.frames.map((f) => f.symbol).filter((n): n is string => n !== null && fns.has(n)));
    assert.deepEqual(actual, expected);
    assert.deepEqual(expected.slice(0, 3), ["lib_inner", "lib_outer", "worker_lib"]);
  });
});

describe("a dlopen()ed library deleted before the dump", () => {
  let fx: NativeCore;
  before(() => {
    fx = nativeCore("deletedlib");
  });

  test("the library file is really gone", () => {
    assert.equal(existsSync(join(fx.dir, "libgone.so")), false);
  });

  test("image list still lists the module; its symbols come from memory", () => {
    const images = analyze(fx, ["image list -v"]).get("image list -v").images as Image[];
    const m = images.find((x) => x.path.includes("libgone.so"));
    assert.ok(m, `libgone.so not listed: ${images.map((x) => x.path).join(", ")}`);
    assert.match(m.path, /libgone\.so( \(deleted\))?$/);
    assert.equal(m.name, "libgone.so");
    assert.notEqual(m.file, "verified", "a deleted file cannot be verified");
    assert.ok(m.symbols, "symbol info listed");
    assert.equal(m.symbols.source, "memory");
    assert.ok(m.symbols.count >= 1);
  });

  test("bt names the parked function from the in-memory dynamic symbol table", () => {
    const r = analyze(fx, ["bt all"]);
    const t = threadIn(r.get("bt all").threads, "libgone.so");
    const names = t.frames.map((f) => f.symbol);
    const i = names.indexOf("gone_parked");
    assert.ok(i >= 0, describeFrames(t));
    assert.equal(basename(t.frames[i]!.module!), "libgone.so");
    assert.equal(names[i + 1], "worker_gone", describeFrames(t));
  });
});
