// What running the DAC in a host process costs, on a createdump full dump of test/targets/hello
// (.NET 10) and, with -all -a on many threads, of test/targets/scenarios:
// - at open: what the session blocks on (finding a trusted DAC, spawning the host) against
//   opening alone, and when the DAC is ready (is its start hidden behind the first commands?);
// - per request: `clrstack -all -a` with the DAC in the host against the same DAC loaded in
//   this process (load-dac.ts directly, as clrscope did before the host): wall time, request
//   count, mean round trip; and a trivial call (GetThreadStoreData) repeated, both ways.
// Run: npm run build && node dist/bench/dac-host.js [RUNS]
import { openCoreDump, type NativeProcess } from "../src/native/process.js";
import { runCommand } from "../src/commands/registry.js";
import { startSessionDac, type Session } from "../src/commands/command.js";
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
    const session: Session = { process: p, currentThread: 1 };
    startSessionDac(session);
    blocking.push(performance.now() - t0);
    // The first commands a user runs need no DAC: the open summary and clrthreads (data contracts).
    runCommand(session, "status");
    runCommand(session, "clrthreads");
    const [, wait] = ms(() => dacRuntimeOf(session.dacHost!, p.memory));
    firstCallWait.push(wait);
    session.dacHost!.host!.close();
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

function requestCosts(core: string, command: string): void {
  const host: number[] = [];
  const local: number[] = [];
  let requests = 0;
  let waitMs = 0;
  // The in-process DAC stays loaded for the process's life (it is never unloaded): load it once.
  const pLocal = openCoreDump(core);
  const localDac = inProcessDac(pLocal);
  for (let i = 0; i < runs; i++) {
    const p = openCoreDump(core);
    const session: Session = { process: p, currentThread: 1 };
    const started = startDac(p);
    const { dac } = dacRuntimeOf(started, p.memory);
    session.dacHost = started;
    session.dac = { runtime: dac };
    const before = { ...started.host!.stats };
    host.push(ms(() => runCommand(session, command))[1]);
    requests = started.host!.stats.requests - before.requests;
    waitMs = started.host!.stats.waitMs - before.waitMs;
    started.host!.close();
    p.close();

    const s2: Session = { process: pLocal, currentThread: 1, dac: { runtime: localDac } };
    local.push(ms(() => runCommand(s2, command))[1]);
  }
  console.log(`\`${command}\` (${runs} runs, medians), ${core}`);
  console.log(`  DAC in this process:  ${fmt(median(local))}`);
  console.log(`  DAC in the host:      ${fmt(median(host))}  (${requests} requests, ${(waitMs / Math.max(1, requests) * 1000).toFixed(0)} µs mean round trip)`);

  const p = openCoreDump(core);
  const started = startDac(p);
  const { dac } = dacRuntimeOf(started, p.memory);
  const [, tHost] = ms(() => {
    for (let i = 0; i < TRIVIAL_CALLS; i++) dac!.sos.threadStoreData();
  });
  const [, tLocal] = ms(() => {
    for (let i = 0; i < TRIVIAL_CALLS; i++) localDac.sos.threadStoreData();
  });
  console.log(`  ${TRIVIAL_CALLS} x GetThreadStoreData: in this process ${(tLocal / TRIVIAL_CALLS * 1000).toFixed(0)} µs each, in the host ${(tHost / TRIVIAL_CALLS * 1000).toFixed(0)} µs each`);
  started.host!.close();
}

const hello = dotnetDump("hello", "full").core;
openTimes(hello);
requestCosts(hello, "clrstack -all -a");
requestCosts(scenarioDump("full").core, "clrstack -all -a");
