// The harness shared by the fuzz suites (test/unit/*-fuzz.test.ts): bounded fast-check
// properties whose damaged inputs must end in a typed ClrscopeError (or a result), never in a
// RangeError/TypeError from deep inside a parser, and never in a hang.
//
// fuzzSuite() runs each property in its own worker thread with a memory limit and a watchdog, so
// a parser that loops forever (or allocates without bound) fails its test instead of stalling
// `npm test`. Runs are deterministic (fixed seeds); a failure prints fast-check's counterexample
// and the seed/path to replay it, and a hang or OOM prints the last input passed to noteInput().
//
// CLRSCOPE_FUZZ_RUNS / CLRSCOPE_FUZZ_SEED run a deeper or different search locally.
//
// `node --test dist/test/` also runs this file: it must stay free of top-level side effects.
// Nothing happens until a test file calls fuzzSuite(); the worker entry point is that test file,
// which re-enters fuzzSuite() in the worker and, told so by `workerData`, runs one property.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import fc from "fast-check";
import { ClrscopeError } from "../../src/errors.js";

/** fast-check runs per property (CLRSCOPE_FUZZ_RUNS overrides). */
export const FUZZ_RUNS = Number(process.env.CLRSCOPE_FUZZ_RUNS) || 300;

/** A suite's base seed: CLRSCOPE_FUZZ_SEED if set, else the suite's own fixed seed. */
export function fuzzSeed(suiteSeed: number): number {
  return Number(process.env.CLRSCOPE_FUZZ_SEED) || suiteSeed;
}

/** One parse of one input taking this long means a blow-up (inputs are a few KB). */
export const SLOW_CALL_MS = 1000;

/** The watchdog: a property still running after this is reported as a hang. */
export const HANG_MS = Math.max(30_000, FUZZ_RUNS * 20);

/** A property: throws (usually from fc.assert) when it fails. */
export type FuzzProperties = Record<string, () => void>;

export interface FuzzSuiteOptions {
  /**
   * Properties still failing because of a known bug in src/ (name -> the bug). They run and report
   * as TODO, so `npm test` stays green; delete the entry once the fix lands.
   */
  knownBugs?: Record<string, string>;
}

// ---- the input under test, shared with the main thread ---------------------------------------

/** Layout of the shared buffer: u32 "an input was noted", u32 its length, then its first bytes. */
const INPUT_HEADER = 8;
const INPUT_CAPACITY = 1 << 16;

/** What a fuzz worker is asked to do (under WORKER_KEY in `workerData`). */
interface FuzzJob {
  moduleUrl: string;
  suite: string;
  property: string;
  lastInput: Uint8Array;
}
const WORKER_KEY = "clrscopeFuzzJob";

/** This thread's job: set only in a worker started by runInWorker. */
const job: FuzzJob | undefined = isMainThread ? undefined : (workerData as Record<string, FuzzJob | undefined> | null)?.[WORKER_KEY];

/** Record `bytes` as the input being tried (call before a parse that might hang). */
export function noteInput(bytes: Uint8Array): void {
  const shared = job?.lastInput;
  if (!shared) return;
  const n = Math.min(bytes.length, INPUT_CAPACITY);
  const header = new DataView(shared.buffer, shared.byteOffset, INPUT_HEADER);
  header.setUint32(4, bytes.length, true);
  shared.set(bytes.subarray(0, n), INPUT_HEADER);
  header.setUint32(0, 1, true);
}

function describeLastInput(shared: Uint8Array): string {
  const header = new DataView(shared.buffer, shared.byteOffset, INPUT_HEADER);
  if (header.getUint32(0, true) === 0) return "last input: none recorded (the property does not call noteInput)";
  const length = header.getUint32(4, true);
  const shown = shared.subarray(INPUT_HEADER, INPUT_HEADER + Math.min(length, 512));
  return `last input (${length} bytes${length > shown.length ? `, first ${shown.length}` : ""}): ${Buffer.from(shown).toString("hex")}`;
}

// ---- running: each property in a worker, under a watchdog ------------------------------------

interface WorkerResult {
  ok: boolean;
  error?: string;
}

/**
 * Registers `describe(title)` with one test per property. `moduleUrl` must be the calling test
 * file's `import.meta.url`: each test runs that file again in a worker, where this call runs the
 * one property the test asked for instead of registering tests.
 */
export function fuzzSuite(title: string, moduleUrl: string, properties: FuzzProperties, options: FuzzSuiteOptions = {}): void {
  if (isMainThread) {
    describe(title, () => {
      for (const name of Object.keys(properties)) {
        it(name, { timeout: HANG_MS + 10_000, todo: options.knownBugs?.[name] }, async () => {
          const r = await runInWorker(moduleUrl, title, name);
          if (!r.ok) assert.fail(`${name}\n${r.error}`);
        });
      }
    });
  } else if (job && job.moduleUrl === moduleUrl && job.suite === title) {
    parentPort!.postMessage(runProperty(properties, job.property));
  }
}

function runProperty(properties: FuzzProperties, name: string): WorkerResult {
  try {
    const property = properties[name];
    if (!property) throw new Error(`no property named ${JSON.stringify(name)}`);
    property();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e) };
  }
}

function runInWorker(moduleUrl: string, suite: string, name: string): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const shared = new Uint8Array(new SharedArrayBuffer(INPUT_HEADER + INPUT_CAPACITY));
    const fuzzJob: FuzzJob = { moduleUrl, suite, property: name, lastInput: shared };
    // A parser that loops while allocating dies of OOM in its worker, not in the test process.
    const worker = new Worker(new URL(moduleUrl), {
      workerData: { [WORKER_KEY]: fuzzJob },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      finish();
    };
    const timer = setTimeout(() => {
      settle(() => {
        void worker.terminate();
        reject(new Error(`${name}: still running after ${HANG_MS / 1000} s (a parser hangs, or a property is too slow)\n${describeLastInput(shared)}`));
      });
    }, HANG_MS);
    worker.once("message", (r: WorkerResult) => {
      settle(() => {
        void worker.terminate();
        resolve(r);
      });
    });
    worker.once("error", (e) => {
      settle(() => reject(new Error(`${name}: ${e.message}\n${describeLastInput(shared)}`, { cause: e })));
    });
    worker.once("exit", (code) => {
      settle(() => reject(new Error(`${name}: worker exited with code ${code} before reporting\n${describeLastInput(shared)}`)));
    });
  });
}

// ---- helpers for writing properties ------------------------------------------------------------

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `fn`; returns its result, or undefined when it threw one of `allowed` (by default any
 * ClrscopeError). Anything else (RangeError, TypeError, a plain Error) fails with a message naming
 * it, and so does a single call slower than SLOW_CALL_MS.
 */
export function expectOnlyTypedErrors<T>(fn: () => T, allowed: ErrorClass[] = [ClrscopeError]): T | undefined {
  const t0 = performance.now();
  let result: T | undefined;
  try {
    result = fn();
  } catch (e) {
    if (!allowed.some((c) => e instanceof c)) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const expected = allowed.map((c) => c.name).join(" or ") || "no error";
      throw new Error(`expected ${expected}, got ${what}\n${e instanceof Error ? e.stack : ""}`, { cause: e });
    }
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_CALL_MS) throw new Error(`one call took ${ms.toFixed(0)} ms`);
  return result;
}

/** Property: `parse` on arbitrary bytes (and on mutations of `seeds`) succeeds or throws a ClrscopeError. */
export function fuzzBytes(
  seed: number,
  parse: (bytes: Uint8Array) => unknown,
  seeds: Uint8Array[] = [],
  opts: { maxLength?: number; hotOffsets?: number[]; extra?: fc.Arbitrary<Uint8Array> } = {},
): void {
  const random = fc.uint8Array({ maxLength: opts.maxLength ?? 2048 });
  const arbs: fc.Arbitrary<Uint8Array>[] = [random];
  if (seeds.length > 0) arbs.push(mutated(seeds, opts.hotOffsets));
  if (opts.extra) arbs.push(opts.extra);
  const arb = fc.oneof(...arbs);
  fc.assert(
    fc.property(arb, (bytes) => {
      noteInput(bytes);
      expectOnlyTypedErrors(() => parse(bytes));
    }),
    { numRuns: FUZZ_RUNS, seed },
  );
}

// ---- byte mutations ----------------------------------------------------------------------------

/** Values that break size and offset arithmetic: sign bits, wrap-arounds, 2^53, all ones. */
const INTERESTING: bigint[] = [
  0n, 1n, 2n, 3n, 4n, 7n, 8n, 12n, 56n, 64n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xfffen, 0xffffn, 0x1_0000n,
  0x7fff_fffcn, 0x7fff_ffffn, 0x8000_0000n, 0x8000_0001n, 0xffff_fff0n, 0xffff_fff4n, 0xffff_fff8n, 0xffff_fffcn, 0xffff_fffdn, 0xffff_ffffn, 0x1_0000_0000n,
  0x1f_ffff_ffff_ffffn, 0x20_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_f000n,
  0xffff_ffff_ffff_ffffn,
];

/** A u32 size field: small, just below 2^32 (wraps when aligned), or from INTERESTING. */
export const size32 = fc.oneof(
  fc.integer({ min: 0, max: 24 }).map(BigInt),
  fc.integer({ min: 0, max: 31 }).map((k) => 0xffff_ffffn - BigInt(k)),
  fc.constantFrom(...INTERESTING.filter((v) => v <= 0xffff_ffffn)),
);

type Mutation =
  | { kind: "byte"; at: number; value: number }
  | { kind: "word"; at: number; size: 2 | 4 | 8; value: bigint }
  | { kind: "truncate"; at: number }
  /** Two u32 at `at` and `at+4`: a note's namesz and descsz together (a cycle needs both). */
  | { kind: "pair"; at: number; first: bigint; second: bigint };

function applyMutations(base: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = base.slice();
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === "byte") out[at] = m.value;
    else if (m.kind === "truncate") out = out.slice(0, at);
    else if (m.kind === "pair") {
      writeLE(out, at, 4, m.first);
      writeLE(out, at + 4, 4, m.second);
    } else writeLE(out, at, m.size, m.value);
  }
  return out;
}

/** Writes the low `size` bytes of `value` at `at`, little-endian, clipped at the end of `out`. */
export function writeLE(out: Uint8Array, at: number, size: number, value: bigint): void {
  const v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size && at + i < out.length; i++) out[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** Mutations of one of `bases`; `hotOffsets` (field offsets) are hit more often than random ones. */
export function mutated(bases: Uint8Array[], hotOffsets: number[] = []): fc.Arbitrary<Uint8Array> {
  const offset = hotOffsets.length > 0 ? fc.oneof(fc.constantFrom(...hotOffsets), fc.nat({ max: 1 << 20 })) : fc.nat({ max: 1 << 20 });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("byte" as const), at: offset, value: fc.integer({ min: 0, max: 255 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("word" as const), at: offset, size: fc.constantFrom(2 as const, 4 as const, 8 as const), value: fc.constantFrom(...INTERESTING) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: 1 << 20 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("pair" as const), at: offset, first: size32, second: size32 }) },
  );
  return fc.tuple(fc.constantFrom(...bases), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([b, ms]) => applyMutations(b, ms));
}
