// `disassemble -a ADDR` disassembles the whole function holding ADDR, as lldb does: for native
// code the ELF symbol (start and size checked against readelf's reading of the symbol file), for
// managed code the method's code as the runtime's code map gives it (start and size checked
// against the runtime's DAC, GetCodeHeaderData); an address in no function is one clear error.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { resultOf as resultIn, runCliJson } from "../support/cli.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import { openCoreDump } from "../../src/native/process.js";
import { openDacRuntime } from "../../src/runtime/dac/dac-runtime.js";
import { loadKoffi } from "../../src/runtime/dac/koffi.js";
import type { DisassembleResult } from "../../src/commands/native/disassemble.js";

/** One command's result on `core` (it must succeed). */
function resultOf(core: string, command: string): any {
  const { docs, status, stderr } = runCliJson(core, [command]);
  assert.equal(status, 0, stderr);
  return resultIn(docs, command);
}

const skip = !hasDotnet() ? "no dotnet SDK on PATH" : loadKoffi().error ?? false;

/** The instructions run back to back from `start` and the last one ends at `start + size`. */
function assertWholeFunction(r: DisassembleResult, start: number, size: number): void {
  assert.equal(Number(r.instructions[0]!.address), start, "the first instruction is the function's start");
  let next = start;
  for (const i of r.instructions) {
    assert.equal(Number(i.address), next, `instruction at ${i.address} follows the previous one`);
    next += i.bytes.length / 2;
  }
  assert.equal(next, start + size, "the last instruction ends at the function's end");
}

describe("disassemble -a ADDR", { skip, timeout: 600_000 }, () => {
  const d = dotnetDump("hello", "full");

  test("a managed method (JIT'd and ReadyToRun): from its start to its end as the DAC gives them, with its name", () => {
    const stacks = resultOf(d.core, "clrstack -all") as { threads: { frames: { kind: string; ip: string; callSite: string }[] }[] };
    const frames = stacks.threads.flatMap((t) => t.frames).filter((f) => f.kind === "managed");
    const jitted = frames.find((f) => f.callSite.startsWith("Hello.Program.SleepForever("));
    const readyToRun = frames.find((f) => f.callSite.startsWith("System.Threading.Thread.Sleep("));
    assert.ok(jitted && readyToRun, "SleepForever and Thread.Sleep are on the stacks");
    const process = openCoreDump(d.core);
    try {
      const { dac, error } = openDacRuntime(process);
      assert.ok(dac, error);
      for (const f of [jitted, readyToRun]) {
        // A return address: the call before it is inside the method.
        const ip = Number(f.ip) - 1;
        const header = dac.sos.codeHeaderData(ip);
        assert.ok(header.MethodSize > 0, `the DAC sizes ${f.callSite}`);
        const r = resultOf(d.core, `disassemble -a 0x${ip.toString(16)}`) as DisassembleResult;
        assert.match(r.function ?? "", new RegExp(`\`${f.callSite.slice(0, f.callSite.indexOf("(")).replace(/[.+]/g, "\\$&")}$`));
        assertWholeFunction(r, header.MethodStart, header.MethodSize);
      }
    } finally {
      process.close();
    }
  });

  test("a native function: from its symbol's start to its end, with its name", () => {
    const bt = resultOf(d.core, "bt") as { threads: { frames: { ip: string; module: string | null; symbol: string | null; offset: number | null }[] }[] };
    const frame = bt.threads[0]!.frames.find((f) => f.module === "libc.so.6" && f.symbol && f.offset);
    assert.ok(frame, "a libc frame with a symbol");
    const images = resultOf(d.core, "image list -v") as { images: { name: string; base: string; symbols?: { from: string | null } }[] };
    const libc = images.images.find((m) => m.name === "libc.so.6")!;
    const readelf = spawnSync("readelf", ["-sW", libc.symbols!.from!], { encoding: "utf8", maxBuffer: 64 << 20 });
    const row = readelf.stdout.split("\n").map((l) => l.trim().split(/\s+/)).find((c) => c[7] === frame.symbol && c[3] === "FUNC");
    assert.ok(row, `readelf lists ${frame.symbol}`);
    const size = Number(row[2]!); // decimal, or 0x... when large
    const start = Number(frame.ip) - frame.offset!;
    const r = resultOf(d.core, `disassemble -a ${frame.ip}`) as DisassembleResult;
    assert.equal(r.function, `libc.so.6\`${frame.symbol}`);
    assertWholeFunction(r, start, size);
  });

  test("an address in no function is one clear error", () => {
    const { docs } = runCliJson(d.core, ["disassemble -a 0x1000"]);
    const doc = docs.find((x) => x.command === "disassemble -a 0x1000")!;
    assert.equal(doc.error?.code, "no-function");
    assert.match(doc.error!.message, /^no function with known bounds contains 0x1000 [^\n]*$/);
  });
});
