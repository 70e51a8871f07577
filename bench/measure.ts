// Side-by-side timing of whole commands (process start included): median wall time and peak
// resident memory (GNU time's %M) over several runs, alternating the tools so that cache
// warmth and machine noise affect both alike.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface Measurement {
  name: string;
  wallMs: number[];
  peakKb: number[];
}

export interface Contender {
  name: string;
  command: string[];
}

const TIME = "/usr/bin/time";

function runOnce(c: Contender): { wallMs: number; peakKb: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync(TIME, ["-f", "%M", ...c.command], { encoding: "utf8", maxBuffer: 1 << 28 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name} failed (exit ${r.status}): ${r.stderr.slice(-500)}`);
  const peakKb = parseInt(r.stderr.trim().split("\n").pop() ?? "0", 10);
  return { wallMs, peakKb };
}

export function compare(contenders: Contender[], runs: number): Measurement[] {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for peak memory: apt-get install time`);
  const results = contenders.map((c) => ({ name: c.name, wallMs: [] as number[], peakKb: [] as number[] }));
  for (const c of contenders) runOnce(c); // warm the page cache for everyone
  for (let i = 0; i < runs; i++) {
    contenders.forEach((c, j) => {
      const m = runOnce(c);
      results[j]!.wallMs.push(m.wallMs);
      results[j]!.peakKb.push(m.peakKb);
    });
  }
  return results;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function report(title: string, results: Measurement[]): string {
  const base = results[0]!;
  const lines = [title, `${"tool".padEnd(34)} ${"median wall".padStart(12)} ${"peak RSS".padStart(10)}  ratio (wall vs ${base.name})`];
  for (const r of results) {
    const wall = median(r.wallMs);
    lines.push(`${r.name.padEnd(34)} ${(wall.toFixed(0) + " ms").padStart(12)} ${((median(r.peakKb) / 1024).toFixed(0) + " MB").padStart(10)}  ${(wall / median(base.wallMs)).toFixed(2)}x`);
  }
  return lines.join("\n");
}
