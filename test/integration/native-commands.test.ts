// The lldb-style commands on a real gcore core, each checked against gdb on the same core:
// registers, memory (from the dump and from files on disk), symbol lookup, disassembly,
// modules; plus thread selection, the REPL and command errors.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { before, describe, test } from "node:test";
import { runCli, runCliJson } from "../support/cli.js";
import { nativeCore, type NativeCore } from "../support/native-fixtures.js";

const runJson = (fx: NativeCore, commands: string[]) => runCliJson(fx.core, commands, ["--exe", fx.exe]);

function resultOf(fx: NativeCore, command: string): any {
  const { docs } = runJson(fx, [command]);
  const d = docs.find((x) => x.command === command);
  assert.ok(d?.result, `no result for ${command}: ${JSON.stringify(d)}`);
  return d.result;
}

function gdb(fx: NativeCore, ...commands: string[]): string {
  return execFileSync("gdb", ["-batch", "-nx", "-ex", "set pagination off", "-ex", "set width 0", ...commands.flatMap((c) => ["-ex", c]), fx.exe, fx.core], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DEBUGINFOD_URLS: "" },
    timeout: 120_000,
  });
}

/** Bytes from gdb's `x/NxbADDR` output lines ("0x...:\t0x48\t0x89 ..."). */
function gdbBytes(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const m = /^0x[0-9a-f]+(?: <[^>]*>)?:\s+(.*)$/.exec(line.trim());
    if (m) out.push(...m[1]!.trim().split(/\s+/).map((b) => parseInt(b, 16)));
  }
  return out;
}

describe("native commands against gdb (chains fixture)", () => {
  let fx: NativeCore;
  before(() => {
    fx = nativeCore("chains");
  });

  test("register read equals gdb's info registers for the current thread", () => {
    const ours = resultOf(fx, "register read");
    const text = gdb(fx, "info registers");
    const names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags"];
    for (const name of names) {
      const m = new RegExp(`^${name}\\s+(0x[0-9a-f]+)`, "m").exec(text);
      assert.ok(m, `gdb printed no ${name}`);
      const mine = ours.registers.find((r: { name: string }) => r.name === name);
      assert.equal(BigInt(mine.value), BigInt(m[1]!), `register ${name}`);
    }
  });

  test("memory read returns gdb's bytes: stack (in the dump) and code (from the file on disk)", () => {
    const threads = resultOf(fx, "bt all").threads;
    const stackAddr = threads[0].frames[0].sp;
    const codeFrame = threads.flatMap((t: any) => t.frames).find((f: any) => f.module === "chains");
    assert.ok(codeFrame, "a frame in the program's code");
    const libcFrame = threads.flatMap((t: any) => t.frames).find((f: any) => f.module === "libc.so.6");
    assert.ok(libcFrame, "a frame in libc");
    for (const addr of [stackAddr, codeFrame.ip, libcFrame.ip]) {
      const ours = resultOf(fx, `memory read ${addr} -c 48`);
      const theirs = gdbBytes(gdb(fx, `x/48xb ${addr}`));
      assert.equal(theirs.length, 48, `gdb read 48 bytes at ${addr}`);
      assert.deepEqual([...Buffer.from(ours.bytes, "hex")], theirs, `bytes at ${addr}`);
    }
    const lookup = resultOf(fx, `image lookup -a ${codeFrame.ip}`);
    assert.equal(lookup.memory, "file", "program code pages are not in a gcore dump: served from the exe");
  });

  test("memory read -s 8 -f x shows 64-bit words, -f d decimals", () => {
    const sp = resultOf(fx, "bt").threads[0].frames[0].sp;
    const words = resultOf(fx, `memory read ${sp} -s 8 -c 2`);
    const theirs = gdb(fx, `x/2gx ${sp}`).trim().split(/\s+/).filter((w) => /^0x[0-9a-f]{16}$/.test(w));
    assert.deepEqual(words.items.map((w: string) => BigInt(w)), theirs.map((w) => BigInt(w)));
    const dec = resultOf(fx, `memory read ${sp} -s 4 -c 1 -f d`);
    const gdbDec = /:\s+(-?\d+)/.exec(gdb(fx, `x/1dw ${sp}`))![1];
    assert.equal(dec.items[0], gdbDec);
  });

  test("image lookup names the same function as gdb's info symbol", () => {
    const frames = resultOf(fx, "bt all").threads.flatMap((t: any) => t.frames).filter((f: any) => f.module === "chains" && f.index > 0);
    assert.ok(frames.length >= 3);
    for (const f of frames.slice(0, 5)) {
      const ours = resultOf(fx, `image lookup -a ${f.ip}`);
      const m = /^(\S+) \+ (\d+) in section \.text/m.exec(gdb(fx, `info symbol ${f.ip}`));
      assert.ok(m, `gdb knows ${f.ip}`);
      assert.equal(ours.symbol, m[1]);
      assert.equal(ours.offset, Number(m[2]));
    }
  });

  test("disassemble decodes the same instruction boundaries as gdb", () => {
    const f = resultOf(fx, "bt all").threads.flatMap((t: any) => t.frames).find((x: any) => x.module === "chains" && x.index > 0);
    const ours = resultOf(fx, `disassemble -a ${f.ip} -c 12`);
    assert.equal(ours.instructions.length, 12);
    const start = ours.instructions[0].address;
    const theirs = [...gdb(fx, `x/12i ${start}`).matchAll(/(0x[0-9a-f]+)(?: <[^>]+>)?:\t/g)].map((m) => BigInt(m[1]!));
    assert.deepEqual(ours.instructions.map((i: any) => BigInt(i.address)), theirs);
    assert.match(ours.function, /^chains`/);
  });

  test("image list has every shared library gdb lists, plus the program", () => {
    const ours = resultOf(fx, "image list -v").images;
    const theirs = [...gdb(fx, "info sharedlibrary").matchAll(/\s(\/\S+\.so[.\d]*)\s*$/gm)].map((m) => m[1]!);
    assert.ok(theirs.length >= 2, "gdb lists libc and ld.so");
    // gdb names libraries as the dynamic linker loaded them (/lib/...), the kernel's NT_FILE by
    // their real path (/usr/lib/...): compare resolved paths.
    const paths = ours.map((m: any) => (m.path.startsWith("/") ? realpathSync(m.path) : m.path));
    for (const p of theirs) assert.ok(paths.includes(realpathSync(p)), `${p} in image list: ${paths.join(", ")}`);
    const libc = ours.find((m: any) => m.name === "libc.so.6");
    assert.equal(libc.file, "verified");
    assert.match(libc.buildId, /^[0-9a-f]{40}$/);
    assert.ok(ours.some((m: any) => m.name === "chains"));
  });

  test("setthread -t TID and thread select change the thread bt shows", () => {
    const list = resultOf(fx, "thread list").threads;
    assert.ok(list.length >= 3);
    const target = list[2];
    const { docs } = runJson(fx, [`setthread -t ${target.tid}`, "bt", "thread select 2", "bt"]);
    const bts = docs.filter((d) => d.command === "bt");
    assert.equal(bts[0]!.result.threads[0].tid, target.tid);
    assert.equal(bts[1]!.result.threads[0].tid, list[1].tid);
  });

  test("command errors are JSON errors with codes, the run goes on, exit status 1", () => {
    const { docs, status } = runJson(fx, ["memory read 0x10", "thread select 999", "frobnicate", "memory read zz", "thread list"]);
    const codes = Object.fromEntries(docs.filter((d) => d.error).map((d) => [d.command, d.error!.code]));
    assert.deepEqual(codes, {
      "memory read 0x10": "memory-not-in-dump",
      "thread select 999": "no-such-thread",
      frobnicate: "unknown-command",
      "memory read zz": "bad-argument",
    });
    assert.ok(docs.find((d) => d.command === "thread list")?.result, "later commands still run");
    assert.equal(status, 1);
  });

  test("the REPL reads commands from stdin until exit", () => {
    const r = runCli(["analyze", fx.core, "--exe", fx.exe], {
      input: "thread list\nhelp bt\nnot-a-command\nexit\n",
      timeout: 60_000,
      env: { ...process.env, HOME: "/tmp" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /thread #1: tid = \d+/);
    assert.match(r.stdout, /usage: bt \[all\]/);
    assert.match(r.stderr, /unknown command 'not-a-command'/);
  });
});
