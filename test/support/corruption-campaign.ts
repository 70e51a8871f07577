// The seeded corruption campaign's pieces: where to damage a real dump (targets located in the
// intact dump through clrscope's own readers), the variants (byte flips, zeroed pages, cuts) drawn
// from a seeded generator, what of each command's JSON result is compared with the intact run
// (thread ids, managed frames, counts, type names), and the verdicts.
import { clrRuntime, type Session } from "../../src/commands/command.js";
import type { ContractsRuntime } from "../../src/runtime/contracts/contracts-runtime.js";
import type { CoreFile } from "../../src/dump/elf-core.js";
import type { ScenarioTruth } from "./dotnet-fixtures.js";
import { PT_NOTE } from "../../src/dump/elf-format.js";

/** The campaign's seed (CAMPAIGN_SEED replays another); the heap dump's variants use seed + 1. */
export const CAMPAIGN_SEED = Number(process.env.CAMPAIGN_SEED ?? 20261203);
/** Variants per dump type (the issue asks for at least 300 in all). */
export const VARIANTS_PER_DUMP = Number(process.env.CAMPAIGN_VARIANTS ?? 250);

const BASE_COMMANDS = ["status", "thread list", "bt all", "clrthreads", "clrstack -all -n", "pstacks", "runtime", "clrmodules"];

/** The commands each variant runs, and the MethodTables and objects they (and the damage) aim at, from the scenario's truth file. */
export function campaignInputs(truth: ScenarioTruth): { commands: string[]; methodTables: number[]; objects: number[] } {
  const methodTables = truth.methodTables.slice(0, 3).map((m) => Number(m.methodTable));
  const exception = truth.exception.address;
  return {
    commands: [...BASE_COMMANDS, ...methodTables.map((mt) => `dumpmt 0x${mt.toString(16)}`), `dumpobj ${exception}`, `pe ${exception}`],
    methodTables,
    objects: [Number(exception)],
  };
}

// ---- the worker protocol --------------------------------------------------------------------

export interface CampaignJob {
  id: number;
  dump: string;
  patches: { offset: number; hex: string }[];
  truncateAt?: number;
  commands: string[];
}

export interface CommandOutcome {
  command: string;
  warnings: string[];
  /** What the campaign compares with the intact dump's run (see summarize). */
  summary?: unknown;
  /** See shownText. */
  text?: string | null;
  textLength?: number;
  /** A ClrscopeError's one line (a clear refusal), or an internal error's stack. */
  error?: string;
  internal?: boolean;
}

export interface CampaignReport {
  id: number;
  /** The dump did not open: a ClrscopeError's message or an internal error. */
  openError?: string;
  internal?: boolean;
  openWarnings: string[];
  outcomes: CommandOutcome[];
}

// ---- what is compared -----------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The part of a command's JSON result whose change matters: which threads exist, their managed
 * frames, the counts, the type of an object. Values read from damaged data (a string's characters,
 * a native frame's offset) may honestly differ and are left out.
 */
export function summarize(line: string, result: any): unknown {
  const verb = line.split(" ")[0];
  switch (line) {
    case "status":
      return { threads: result.threads, runtime: result.runtime?.path ?? null };
    case "thread list":
      return result.threads.map((t: any) => t.tid);
    case "bt all":
      return result.threads.map((t: any) => ({ tid: t.tid, managed: t.frames.filter((f: any) => isManagedModule(f.module)).map((f: any) => f.symbol) }));
    case "clrthreads":
      return { counts: result.counts, threads: result.threads.map((t: any) => [t.osId, t.managedId]) };
    case "clrstack -all -n":
      return result.threads.map((t: any) => ({ osId: t.osId, managed: t.frames.filter((f: any) => f.kind === "managed").map((f: any) => f.callSite) }));
    case "pstacks":
      return { threadCount: result.threadCount, threads: [...pstacksThreads(result.roots)].sort((a, b) => a - b) };
    case "runtime":
      return { version: result.version, backend: result.backend, descriptorAddress: result.descriptorAddress };
    case "clrmodules":
      return result.modules.map((m: any) => m.path);
  }
  if (verb === "dumpmt") return result.name;
  if (verb === "dumpobj" || verb === "do") return result.name;
  if (verb === "pe") return result.type;
  return null;
}

/** What must agree between commands on one variant: a string's text as `pe` (the message) and `dumpobj` (the string object) show it. */
export function shownText(line: string, result: any): string | null | undefined {
  const verb = line.split(" ")[0];
  if (verb === "pe") return result.message;
  if (verb === "dumpobj" || verb === "do") return result.string ?? null;
  return undefined;
}

/** Managed frames in `bt` carry their assembly as the module. */
function isManagedModule(module: unknown): boolean {
  return typeof module === "string" && /\.(dll|exe)$/i.test(module);
}

function pstacksThreads(nodes: any[], into = new Set<number>()): Set<number> {
  for (const n of nodes) {
    for (const id of n.threads) into.add(id);
    pstacksThreads(n.children, into);
  }
  return into;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

// ---- the variants ---------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so that a failing variant can be named and replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A region of the dump file worth damaging, named for the report. */
export interface Target {
  name: string;
  fileOffset: number;
  length: number;
}

export interface Variant {
  /** e.g. "full#17 flip descriptor-json"; with the seed it names the variant for a replay. */
  name: string;
  patches: { offset: number; hex: string }[];
  truncateAt?: number;
}

/** The file offset holding virtual address `address` in the dump, if the dump has that byte. */
export function fileOffsetOf(core: CoreFile, address: number): number | undefined {
  for (const s of core.segments) {
    if (address >= s.start && address < s.start + s.available) return s.fileOffset + (address - s.start);
  }
  return undefined;
}

const PAGE = 4096;

/**
 * The regions to damage, found in the intact dump by clrscope's own readers: the notes, the
 * descriptor (header, JSON, pointer data), the globals it points at, the thread store and each
 * runtime Thread, MethodTables, the range sections of JIT'd code, heap objects, thread stacks.
 */
export function locateTargets(session: Session, addresses: { methodTables: number[]; objects: number[] }): Target[] {
  const process = session.process;
  const core = process.core;
  const out: Target[] = [];
  const add = (name: string, address: number, length: number) => {
    const fileOffset = fileOffsetOf(core, address);
    if (fileOffset !== undefined && length > 0) out.push({ name, fileOffset, length: Math.min(length, fileEndOfSegment(core, address) - fileOffset) });
  };
  for (const ph of core.programHeaders) if (ph.type === PT_NOTE) out.push({ name: "notes", fileOffset: ph.offset, length: ph.filesz });

  // With the runtime open, unwinding goes through managed code as `bt` does.
  const rt = clrRuntime(session) as ContractsRuntime;
  const t = rt.target;
  const d = t.descriptor;
  // Heap dumps leave libcoreclr's .data out; the descriptor then comes from the file on disk.
  const header = process.memory.tryReadAsLoaded?.(d.address, 40) ?? process.memory.read(d.address, 40);
  const view = new DataView(header.buffer, header.byteOffset, 40);
  add("descriptor-header", d.address, 40);
  add("descriptor-json", Number(view.getBigUint64(16, true)), view.getUint32(12, true));
  add("descriptor-pointer-data", Number(view.getBigUint64(32, true)), view.getUint32(24, true) * 8);
  for (const [name, g] of d.globals) if (g.indirect && g.value !== undefined && g.value < 2n ** 53n) add(`global ${name}`, Number(g.value), 8);

  const layoutLength = (type: string) => {
    const l = d.types.get(type);
    return l?.size ?? Math.max(8, ...[...(l?.fields.values() ?? [])].map((f) => f.offset + 8));
  };
  add("thread-store", t.globalVariable("ThreadStore"), layoutLength("ThreadStore"));
  for (const thread of rt.threads()) add("runtime-thread", thread.address, layoutLength("Thread"));
  for (const mt of addresses.methodTables) add("method-table", mt, layoutLength("MethodTable"));
  for (const object of addresses.objects) add("heap-object", object - 8, 64);

  const rangeMap = d.global("ExecutionManagerCodeRangeMapAddress");
  add("range-section-map", rangeMap, layoutLength("RangeSectionMap"));
  const sections = new Set<number>();
  for (const th of process.threads) {
    const stack = process.unwindThread(th, 64);
    const sp = stack.frames[0]?.sp;
    if (sp !== undefined) add("stack", sp, 4 * PAGE);
    for (const f of stack.frames) {
      const block = rt.codeBlock(f.ip);
      if (block) sections.add(block.rangeSection);
    }
  }
  for (const s of sections) add("range-section", s, layoutLength("RangeSection"));
  return out;
}

function fileEndOfSegment(core: CoreFile, address: number): number {
  const s = core.segments.find((x) => address >= x.start && address < x.start + x.available)!;
  return s.fileOffset + s.available;
}

function hexOf(bytes: number[]): string {
  return Buffer.from(bytes).toString("hex");
}

/**
 * `count` variants of one dump: byte flips in a target (1 to 4 bytes), the target's page zeroed,
 * cuts at random points and at the start of each target (so that whatever follows is missing).
 */
export function generateVariants(label: string, fileSize: number, targets: Target[], seed: number, count: number): Variant[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  // Drawn by kind first (all globals are one kind), so that kinds with many targets do not crowd out the rest.
  const byKind = new Map<string, Target[]>();
  for (const t of targets) {
    const kind = t.name.startsWith("global ") ? "global" : t.name;
    byKind.set(kind, [...(byKind.get(kind) ?? []), t]);
  }
  const kinds = [...byKind.keys()];
  const out: Variant[] = [];
  for (let i = 0; out.length < count; i++) {
    const roll = random();
    const group = pick(kinds);
    const target = pick(byKind.get(group)!);
    const at = target.fileOffset + Math.floor(random() * target.length);
    if (roll < 0.6) {
      const patches = [];
      const n = 1 + Math.floor(random() * 4);
      for (let k = 0; k < n; k++) {
        const offset = target.fileOffset + Math.floor(random() * target.length);
        patches.push({ offset, hex: hexOf([Math.floor(random() * 256)]) });
      }
      out.push({ name: `${label}#${i} set bytes in ${target.name}`, patches });
    } else if (roll < 0.8) {
      const page = at - (at % PAGE);
      out.push({ name: `${label}#${i} zero page of ${target.name}`, patches: [{ offset: page, hex: "00".repeat(PAGE) }] });
    } else if (roll < 0.9) {
      out.push({ name: `${label}#${i} cut at the start of ${target.name}`, patches: [], truncateAt: target.fileOffset });
    } else {
      out.push({ name: `${label}#${i} cut at a random point`, patches: [], truncateAt: Math.floor(random() * fileSize) });
    }
  }
  return out;
}

// ---- verdicts -------------------------------------------------------------------------------

export type FailureKind = "internal-error" | "hang" | "signal" | "silent-difference";

export interface Failure {
  kind: FailureKind;
  variant: string;
  command?: string;
  detail: string;
}

/**
 * Failures of one variant's report against the intact dump's summaries (by command), and between
 * commands that show the same string (`agree`: pairs of command lines, e.g. pe and dumpobj of its message).
 */
export function judge(variant: string, report: CampaignReport, intact: Map<string, unknown>, agree: [string, string][] = []): Failure[] {
  const failures: Failure[] = [];
  for (const [a, b] of agree) {
    const x = report.outcomes.find((o) => o.command === a);
    const y = report.outcomes.find((o) => o.command === b);
    if (!x || !y || x.error !== undefined || y.error !== undefined || x.warnings.length + y.warnings.length + report.openWarnings.length > 0) continue;
    if (x.text !== y.text) failures.push({ kind: "silent-difference", variant, command: `${a} / ${b}`, detail: `they disagree: ${clip(JSON.stringify(x.text))} / ${clip(JSON.stringify(y.text))}` });
  }
  if (report.internal) failures.push({ kind: "internal-error", variant, detail: report.openError ?? "" });
  for (const o of report.outcomes) {
    if (o.internal) {
      failures.push({ kind: "internal-error", variant, command: o.command, detail: o.error ?? "" });
      continue;
    }
    if (o.error !== undefined) continue; // a clear one-line failure is an answer, not a wrong one
    const warned = o.warnings.length > 0 || report.openWarnings.length > 0;
    const difference = firstDifference(intact.get(o.command), o.summary);
    if (!warned && difference !== undefined) failures.push({ kind: "silent-difference", variant, command: o.command, detail: difference });
  }
  return failures;
}

/** Where two summaries first differ ("at [3].managed: intact ... got ..."), undefined when equal. */
function firstDifference(expected: unknown, got: unknown, path = ""): string | undefined {
  if (JSON.stringify(expected) === JSON.stringify(got)) return undefined;
  if (typeof expected === "object" && expected !== null && typeof got === "object" && got !== null && Array.isArray(expected) === Array.isArray(got)) {
    const e = expected as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(e), ...Object.keys(g)])];
    for (const k of keys) {
      const d = firstDifference(e[k], g[k], `${path}[${k}]`);
      if (d !== undefined && (k in e) && (k in g)) return d;
    }
  }
  return `at ${path || "top"}: intact ${clip(JSON.stringify(expected))}, got ${clip(JSON.stringify(got))}`;
}

function clip(s: string | undefined): string {
  return s === undefined ? "undefined" : s.length > 300 ? s.slice(0, 300) + "..." : s;
}
