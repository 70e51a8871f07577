// DAC stand-ins built with gcc from test/fixtures/fake-dac/fake-dac.c: a planted DAC whose
// constructor leaves a marker file (it must never be loaded from a dump's say-so), and DACs that
// crash or hang (named with --dac, to test how the DAC host's failures are handled).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cachedDir, repoRoot } from "./cache.js";

const SOURCE = join(repoRoot, "test", "fixtures", "fake-dac", "fake-dac.c");

function compile(out: string, defines: string[]): void {
  execFileSync("gcc", ["-shared", "-fPIC", "-O1", "-o", out, SOURCE, ...defines.map((d) => `-D${d}`)], { stdio: "pipe" });
}

/** A planted libmscordaccore.so at `out` that creates `marker` when loaded, carrying the real DAC's version stamp. */
export function buildPlantedDac(out: string, marker: string, stamp: string): void {
  compile(out, [`MARKER=${JSON.stringify(marker)}`, `STAMP=${JSON.stringify(stamp)}`]);
}

export type FaultyDacKind = "crash-in-create" | "crash-in-calls" | "hang-in-calls";

/** A DAC whose CLRDataCreateInstance or interface methods crash (SIGSEGV) or never return. */
export function faultyDac(kind: FaultyDacKind): string {
  const defines = { "crash-in-create": ["FAULT_IN_CREATE"], "crash-in-calls": [], "hang-in-calls": ["HANG"] }[kind];
  const dir = cachedDir("fake-dac", [readFileSync(SOURCE), kind], (d) => compile(join(d, "libmscordaccore.so"), defines));
  return join(dir, "libmscordaccore.so");
}
