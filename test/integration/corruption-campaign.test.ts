// The seeded corruption campaign (issue 8): hundreds of damaged variants of real .NET 10 full and
// heap dumps (bytes set in the notes, the descriptor, globals, runtime structures, heap objects,
// stacks; zeroed pages; cuts), each through the main commands in text and JSON, in a few worker
// processes with a per-variant watchdog. Required: no internal error, no hang, no death by signal,
// and no answer that differs from the intact dump's where it matters (threads, managed frames,
// counts, type names) without a warning. Replay one variant: CAMPAIGN_ONLY="<variant name>".
// The DAC is kept out (the workers force the contracts backend) until it runs in its own process.
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { newSession, type Session } from "../../src/commands/command.js";
import { runCommand } from "../../src/commands/registry.js";
import { openCoreDump } from "../../src/native/process.js";
import { withWarnings } from "../../src/warnings.js";
import { scenarioDump, type DumpType } from "../support/dotnet-fixtures.js";
import {
  campaignInputs, CAMPAIGN_SEED as SEED, generateVariants, judge, locateTargets, summarize, VARIANTS_PER_DUMP,
  type CampaignJob, type CampaignReport, type Failure, type Variant,
} from "../support/corruption-campaign.js";

const WORKERS = 2;
/** A variant's commands take well under a second intact; this much means a hang. */
const VARIANT_TIMEOUT_MS = Number(process.env.CAMPAIGN_TIMEOUT_MS ?? 30_000);
const WORKER_PATH = join(fileURLToPath(new URL(".", import.meta.url)), "..", "support", "campaign-worker.js");


interface Subject {
  type: DumpType;
  dump: string;
  commands: string[];
  variants: Variant[];
  intact: Map<string, unknown>;
  agree: [string, string][];
}

/** The intact dump's answers, the object addresses worth asking about, and the variants. */
function prepare(type: DumpType, seed: number): Subject {
  const { core, truth } = scenarioDump(type);
  const process_ = openCoreDump(core);
  const session: Session = newSession(process_, { backend: "contracts" });
  try {
    const { commands, methodTables, objects } = campaignInputs(truth);
    // The exception's message string, from the intact dumpobj: pe and dumpobj must show it alike.
    const exceptionFields = runCommand(session, `dumpobj ${truth.exception.address}`).result as { fields: { name: string; value: string }[] | null };
    const message = exceptionFields.fields?.find((f) => f.name === "_message")?.value;
    assert.ok(message !== undefined && message !== "0x0", "the scenario's exception has a message string");
    const agree: [string, string][] = [[`pe ${truth.exception.address}`, `dumpobj ${message}`]];
    commands.push(`dumpobj ${message}`);
    objects.push(Number(message));
    const intact = new Map<string, unknown>();
    for (const c of commands) {
      const warnings: string[] = [];
      const { result } = withWarnings(warnings, () => runCommand(session, c));
      // A warning on the intact dump would be a false alarm (and would excuse every difference).
      assert.deepEqual(warnings, [], `${type} dump, intact, ${c}`);
      intact.set(c, summarize(c, JSON.parse(JSON.stringify(result))));
    }
    const targets = locateTargets(session, { methodTables, objects });
    const variants = generateVariants(type, statSync(core).size, targets, seed, VARIANTS_PER_DUMP);
    return { type, dump: core, commands, variants, intact, agree };
  } finally {
    process_.close();
  }
}

interface Outcome {
  report?: CampaignReport;
  failure?: Failure;
}

/** Runs jobs on WORKERS child processes; a job past the watchdog or a worker's death is a failure of that variant. */
async function runAll(jobs: { job: CampaignJob; variant: string }[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(jobs.length);
  let next = 0;
  const runWorker = async (): Promise<void> => {
    let child: ChildProcess | undefined;
    while (next < jobs.length) {
      const index = next++;
      const { job, variant } = jobs[index]!;
      child ??= fork(WORKER_PATH, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
      const worker = child;
      outcomes[index] = await new Promise<Outcome>((resolve) => {
        const done = (o: Outcome, restart: boolean) => {
          clearTimeout(timer);
          worker.off("message", onMessage);
          worker.off("exit", onExit);
          if (restart) child = undefined;
          resolve(o);
        };
        const timer = setTimeout(() => {
          worker.kill("SIGKILL");
          done({ failure: { kind: "hang", variant, detail: `no answer in ${VARIANT_TIMEOUT_MS / 1000} s` } }, true);
        }, VARIANT_TIMEOUT_MS);
        const onMessage = (report: CampaignReport) => done({ report }, false);
        const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
          done({ failure: { kind: "signal", variant, detail: `worker died: ${signal ?? `exit ${code}`}` } }, true);
        worker.on("message", onMessage);
        worker.on("exit", onExit);
        worker.send(job);
      });
    }
    child?.disconnect();
  };
  await Promise.all(Array.from({ length: WORKERS }, runWorker));
  return outcomes;
}

describe("corruption campaign on .NET 10 dumps", () => {
  it(`${2 * VARIANTS_PER_DUMP} seeded variants of a full and a heap dump: no internal error, hang, signal or silent wrong answer`, { timeout: 600_000 }, async () => {
    const started = Date.now();
    const subjects = [prepare("full", SEED), prepare("heap", SEED + 1)];
    const only = process.env.CAMPAIGN_ONLY;
    const jobs = subjects.flatMap((s) =>
      s.variants
        .filter((v) => only === undefined || v.name === only)
        .map((v) => ({ subject: s, variant: v.name, job: { id: 0, dump: s.dump, patches: v.patches, truncateAt: v.truncateAt, commands: s.commands } })),
    );
    jobs.forEach((j, i) => (j.job.id = i));
    const outcomes = await runAll(jobs);

    const failures: Failure[] = [];
    let commandsRun = 0;
    let refused = 0;
    let warned = 0;
    outcomes.forEach((o, i) => {
      const { subject, variant } = jobs[i]!;
      if (o.failure) return void failures.push(o.failure);
      const report = o.report!;
      commandsRun += report.outcomes.length;
      if (report.openError !== undefined) refused++;
      if (report.openWarnings.length > 0 || report.outcomes.some((c) => c.warnings.length > 0)) warned++;
      failures.push(...judge(variant, report, subject.intact, subject.agree));
    });
    const byKind = new Map<string, number>();
    for (const f of failures) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `corruption campaign (seed ${SEED}): ${jobs.length} variants, ${commandsRun} commands (text and JSON each), ` +
        `${refused} refused at open, ${warned} with warnings; failures: ${failures.length}` +
        `${[...byKind].map(([k, n]) => ` ${k}=${n}`).join(",")}; ${seconds} s`,
    );
    for (const f of failures.slice(0, 40)) console.log(`  ${f.kind} ${f.variant}${f.command ? ` [${f.command}]` : ""}: ${f.detail.split("\n").slice(0, 4).join("\n    ")}`);
    assert.equal(failures.length, 0, `${failures.length} failures (listed above)`);
    if (only === undefined) assert.ok(jobs.length >= 300, "the issue asks for at least 300 variants");
  });
});
