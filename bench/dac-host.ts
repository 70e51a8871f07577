// What running the DAC in a host process costs, on a createdump full dump of test/targets/hello
// (.NET 10) and, with -all -a on many threads, of test/targets/scenarios:
// - at open: what the session blocks on (finding a trusted DAC, spawning the host) against
//   opening alone, and when the DAC is ready (is its start hidden behind the first commands?);
// - per request: `clrstack -all -a` with the DAC in the host against the same DAC loaded in
//   this process (load-dac.ts directly, as clrscope did before the host): wall time, request
//   count, mean round trip; and a trivial call (GetThreadStoreData) repeated, both ways.
// Run: npm run build && node dist/bench/dac-host.js [RUNS]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { openCoreDump, type NativeProcess } from "../src/native/process.js";
import { runCommand } from "../src/commands/registry.js";
import { newSession } from "../src/commands/command.js";
import { DacRuntime, startDac, dacRuntimeOf } from "../src/runtime/dac/dac-runtime.js";
import { findTrustedDac } from "../src/runtime/dac/dac-provenance.js";
import { loadDac } from "../src/runtime/dac/load-dac.js";
import { dotnetDump, scenarioDump } from "../test/support/dotnet-fixtures.js";
import { median } from "./measure.js";

const runs = Number(process.argv[2] ?? 5);
const TRIVIAL_CALLS = 2000;

function ms<T>(f: () => T): [T, number] {
  const t = performance.now();
  const v = f();
  return [v, performance.now() - t];
}

const fmt = (x: number) => `${x.toFixed(1)} ms`;

function openTimes(core: string): void {
  const alone: number[] = [];
  const blocking: number[] = [];
  const provenance: number[] = [];
  const readyAlone: number[] = [];
  const firstCallWait: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [p1, t1] = ms(() => {
      const p = openCoreDump(core);
      void p.runtime;
      return p;
    });
    alone.push(t1);
    p1.close();

    const p = openCoreDump(core);
    void p.runtime;
    provenance.push(ms(() => findTrustedDac(p))[1]);
    const t0 = performance.now();
    const session = newSession(p);
    session.managed.startDac();
    blocking.push(performance.now() - t0);
    // The first commands a user runs need no DAC: the open summary and clrthreads (data contracts).
    runCommand(session, "status");
    runCommand(session, "clrthreads");
    const [, wait] = ms(() => session.managed.dacRuntime());
    firstCallWait.push(wait);
    session.managed.close();
    p.close();

    // Time to ready with nothing to hide it behind.
    const q = openCoreDump(core);
    const started = performance.now();
    const s = startDac(q);
    dacRuntimeOf(s, q.memory);
    readyAlone.push(performance.now() - started);
    s.host!.close();
    q.close();
  }
  console.log(`open (${runs} runs, medians): ${core}`);
  console.log(`  open alone (headers, notes, runtime module):            ${fmt(median(alone))}`);
  console.log(`  finding the trusted DAC (build-id, stamps, installs):   ${fmt(median(provenance))}`);
  console.log(`  session blocked at open (find + spawn the host):        ${fmt(median(blocking))}`);
  console.log(`  DAC ready, from the start of the host (nothing else):   ${fmt(median(readyAlone))}`);
  console.log(`  first DAC use after status + clrthreads waited:         ${fmt(median(firstCallWait))}`);
}

function inProcessDac(p: NativeProcess): DacRuntime {
  const trusted = findTrustedDac(p);
  if ("error" in trusted) throw new Error(trusted.error);
  const { dac, error } = loadDac(p, trusted.path, trusted.version);
  if (!dac) throw new Error(error);
  return new DacRuntime({ ...trusted, sos: dac.sos, xclr: dac.xclr, initMs: dac.initMs }, p.memory);
}

interface CommandCost {
  ms: number;
  requests: number;
  waitMs: number;
  byMethod: [string, number][];
}

/** In this (fresh) process: `command` with the DAC ready, in the host or loaded here; the DAC's start is not timed. */
function measureCommand(mode: "host" | "local", core: string, command: string): CommandCost {
  setFlagsFromString("--no-opt"); // as the CLI runs (bin.ts)
  const p = openCoreDump(core);
  if (mode === "local") {
    const session = newSession(p, { loadedDac: inProcessDac(p) });
    return { ms: ms(() => runCommand(session, command))[1], requests: 0, waitMs: 0, byMethod: [] };
  }
  const started = startDac(p);
  const session = newSession(p, { startedDac: started });
  session.managed.dacRuntime();
  const t = ms(() => runCommand(session, command))[1];
  const stats = started.host!.stats;
  started.host!.close();
  return { ms: t, requests: stats.requests, waitMs: stats.waitMs, byMethod: [...stats.byMethod] };
}

/** `command` in fresh processes (cold code, as in the CLI), the DAC in the host and in-process, alternating. */
function requestCosts(core: string, command: string): void {
  const costs = { host: [] as CommandCost[], local: [] as CommandCost[] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ["local", "host"] as const) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--measure", mode, core, command], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`--measure ${mode} failed: ${r.stderr}`);
      costs[mode].push(JSON.parse(r.stdout) as CommandCost);
    }
  }
  const host = costs.host[0]!;
  console.log(`\`${command}\` (${runs} runs each in a fresh process, medians), ${core}`);
  console.log(`  DAC in this process:  ${fmt(median(costs.local.map((c) => c.ms)))}`);
  console.log(`  DAC in the host:      ${fmt(median(costs.host.map((c) => c.ms)))}  (${host.requests} requests, ${fmt(median(costs.host.map((c) => c.waitMs / c.requests)))} mean round trip incl. the DAC's work)`);
  console.log(`  requests: ${host.byMethod.map(([m, n]) => `${m} ${n}`).join(", ")}`);
}

/** Round trip of a trivial call (GetThreadStoreData: one small struct), answered by the host each time. */
function trivialCallCost(core: string): void {
  const p = openCoreDump(core);
  const started = startDac(p);
  dacRuntimeOf(started, p.memory);
  const samples: number[] = [];
  for (let i = 0; i < TRIVIAL_CALLS; i++) samples.push(ms(() => started.host!.call("sos", "threadStoreData", [i]))[1]);
  console.log(`round trip of a trivial request (${TRIVIAL_CALLS} calls): median ${(median(samples) * 1000).toFixed(0)} µs, first ${(samples[0]! * 1000).toFixed(0)} µs`);
  started.host!.close();
}

if (process.argv[2] === "--measure") {
  const [, , , mode, core, command] = process.argv;
  process.stdout.write(JSON.stringify(measureCommand(mode as "host" | "local", core!, command!)));
} else {
  const hello = dotnetDump("hello", "full").core;
  openTimes(hello);
  trivialCallCost(hello);
  requestCosts(hello, "clrstack -all -a");
  requestCosts(scenarioDump("full").core, "clrstack -all -a");
}
