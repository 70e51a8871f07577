// clrscope's side of the DAC host (dac-host.ts): starts the host process, and turns each call
// of the DAC wrappers (SosDac, XclrDataProcess) into one synchronous request to it, so that
// DacRuntime and the commands call them as if the DAC were loaded here. Commands are
// synchronous, so the reply is awaited by polling a non-blocking FIFO and sleeping in short,
// growing steps. A host that crashes, hangs or is cancelled is killed and fails the call in
// flight with one line; the next call starts a new one.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CancelledError, cancellationRequested } from "../../cancellation.js";
import { ClrscopeError } from "../../errors.js";
import { hex } from "../../hex.js";
import { MAX_KEPT_DAC_ANSWERS } from "../../limits.js";
import { encodeFrame, FrameReader, HOST_REPLY_FD, HOST_REQUEST_FD, sleepMs, writeAllSync, type HostInit, type HostReply, type HostRequest, fromWireError } from "./host-protocol.js";
import { SosDac } from "./sos-dac.js";
import { XclrDataProcess } from "./xclrdata.js";
import type { TrustedDac } from "./dac-provenance.js";

/** How long one DAC call may take before the host is taken for hung (CLRSCOPE_DAC_TIMEOUT seconds overrides). */
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Most replies come within this: polled without sleeping (a sleep costs the thread its time slice). */
const SPIN_MS = 0.2;
const FIRST_PAUSE_MS = 0.05;
const LONGEST_PAUSE_MS = 2;
/** After the host's end of the pipe closes, how long its exit status may take to show. */
const REAP_WAIT_MS = 2_000;
const READ_CHUNK = 1 << 16;
const CONTRACTS_STILL_WORK = "answers from the data contracts still work";

/** What the user keeps after a failure: a DAC that fails to load is not tried again in the session (dacRuntime keeps the reason). */
function afterFailure(what: string): string {
  return what === "start" ? CONTRACTS_STILL_WORK : `it restarts on the next command that needs it; ${CONTRACTS_STILL_WORK}`;
}

/** The DAC host failed a call: it crashed, hung or could not start. */
export class DacHostError extends ClrscopeError {
  constructor(code: "dac-crashed" | "dac-timeout" | "dac-host-failed", message: string) {
    super(code, message);
  }
}

/** The host script: beside this module (dist/src/runtime/dac/) or, in the bundled bin, beside dist/clrscope.js. */
const HOST_SCRIPT = fileURLToPath(new URL("./dac-host.js", import.meta.url));

function requestTimeoutMs(): number {
  const s = Number(process.env.CLRSCOPE_DAC_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : DEFAULT_REQUEST_TIMEOUT_MS;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n as number, name]));

/** How a dead child ended, from /proc (it stays a zombie until the event loop reaps it, so this can be read synchronously). */
function endOf(pid: number): string {
  const deadline = Date.now() + REAP_WAIT_MS;
  for (let pause = FIRST_PAUSE_MS; Date.now() < deadline; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    } catch {
      break; // already reaped
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Field 3 is the state, field 52 the exit status as waitpid(2) gives it.
    if (fields[0] === "Z" || fields[0] === "X") {
      const status = Number(fields[49]);
      const signal = status & 0x7f;
      if (signal !== 0) return `crashed (${SIGNAL_NAMES.get(signal) ?? `signal ${signal}`})`;
      return `exited (code ${(status >> 8) & 0xff})`;
    }
    sleepMs(pause);
  }
  return "ended";
}

function describeCall(method: string, args: unknown[]): string {
  return `${method}(${args.map((a) => (typeof a === "number" ? hex(a) : typeof a === "object" ? "…" : String(a))).join(", ")})`;
}

interface Child {
  process: ChildProcess;
  pid: number;
  requestFd: number;
  replyFd: number;
  reader: FrameReader;
  /** The init request's reply has not been read yet. */
  starting: boolean;
}

const liveHosts = new Set<DacHost>();
process.on("exit", () => {
  for (const h of liveHosts) h.close();
});

/** One DAC host process for one dump and DAC, started on demand and again after a failure. */
export class DacHost {
  private child?: Child;
  private readonly buffer = Buffer.alloc(READ_CHUNK);
  /** Milliseconds the DAC took to load in the current host. */
  private initMs?: number;
  /** The DAC the host loaded, and why it may be loaded (when the host chose it). */
  private trusted?: TrustedDac;
  /** ISOSDacInterface answers already given, by method and arguments. */
  private readonly answers = new Map<string, unknown>();
  /** Requests answered, and milliseconds spent waiting for them (bench/). */
  readonly stats = { requests: 0, waitMs: 0, starts: 0, byMethod: new Map<string, number>() };
  readonly sos: SosDac;
  readonly xclr: XclrDataProcess;

  constructor(private readonly init: HostInit) {
    this.sos = this.proxy("sos", SosDac.prototype);
    this.xclr = this.proxy("xclr", XclrDataProcess.prototype);
  }

  /** Starts the host in the background (the DAC loads while the caller goes on). */
  start(): void {
    if (this.child) return;
    const dir = mkdtempSync(join(tmpdir(), "clrscope-dac-"));
    const fds: number[] = [];
    try {
      const requestPath = join(dir, "request");
      const replyPath = join(dir, "reply");
      execFileSync("mkfifo", ["-m", "600", requestPath, replyPath], { stdio: "ignore" });
      // Opening a FIFO's read end first lets its write end open without blocking.
      const replyRead = openSync(replyPath, constants.O_RDONLY | constants.O_NONBLOCK);
      fds.push(replyRead);
      const replyWrite = openSync(replyPath, constants.O_WRONLY | constants.O_NONBLOCK);
      fds.push(replyWrite);
      const requestRead = openSync(requestPath, constants.O_RDONLY | constants.O_NONBLOCK);
      fds.push(requestRead);
      const requestWrite = openSync(requestPath, constants.O_WRONLY | constants.O_NONBLOCK);
      fds.push(requestWrite);
      const stdio = ["ignore", "ignore", "ignore"] as (string | number)[];
      stdio[HOST_REQUEST_FD] = requestRead;
      stdio[HOST_REPLY_FD] = replyWrite;
      const child = spawn(process.execPath, [HOST_SCRIPT], { stdio: stdio as ("ignore" | number)[] });
      child.on("error", () => {}); // a failed start shows as a closed pipe
      child.unref();
      // Only the host holds its ends now: its exit closes the reply pipe (end of file here).
      closeSync(requestRead);
      closeSync(replyWrite);
      fds.splice(0, fds.length, replyRead, requestWrite);
      if (child.pid === undefined) {
        closeSync(replyRead);
        closeSync(requestWrite);
        fds.length = 0; // closed: the catch below must not close those numbers again
        throw new DacHostError("dac-host-failed", `cannot start the DAC host (${process.execPath} ${HOST_SCRIPT})`);
      }
      this.child = { process: child, pid: child.pid, requestFd: requestWrite, replyFd: replyRead, reader: new FrameReader(), starting: true };
      this.stats.starts++;
      liveHosts.add(this);
      this.send(this.init, "start");
    } catch (e) {
      if (!this.child) for (const fd of fds) tryClose(fd);
      if (e instanceof ClrscopeError) throw e;
      // mkfifo missing, no file descriptors left, ...
      throw new DacHostError("dac-host-failed", `cannot start the DAC host: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Waits until the DAC is loaded: its load time, or why it did not load (one line). */
  ready(): { initMs: number; trusted?: TrustedDac } | { error: string } {
    try {
      this.started();
      return { initMs: this.initMs ?? 0, trusted: this.trusted };
    } catch (e) {
      if (e instanceof DacHostError) return { error: e.message };
      throw e;
    }
  }

  /** Kills the host (it would end by itself when our pipe closes; this is sooner). */
  close(): void {
    const c = this.child;
    if (!c) return;
    this.child = undefined;
    liveHosts.delete(this);
    try {
      process.kill(c.pid, "SIGKILL");
    } catch {
      // already gone
    }
    tryClose(c.requestFd);
    tryClose(c.replyFd);
  }

  /**
   * One call of a wrapper's method in the host: its value, or the error it threw there.
   * ISOSDacInterface answers about a dump never change, so they are kept (frozen: shared by
   * every caller); stack walks are large and asked once per thread, so they are not.
   */
  call(target: "sos" | "xclr", method: string, args: unknown[]): unknown {
    const key = answerKey(target, method, args);
    if (key !== undefined && this.answers.has(key)) return this.answers.get(key);
    const value = this.request(target, method, args);
    if (key !== undefined) {
      this.keep(key, value);
      return this.answers.get(key);
    }
    return value;
  }

  /**
   * Many calls in one round trip: each one's value, or the error it threw in the host. ISOSDacInterface
   * answers are kept as single calls keep them (so `prefetch` then single calls cost no more trips).
   * A host that dies or hangs during the batch throws as a single call would.
   */
  callMany(target: "sos" | "xclr", method: string, argsList: unknown[][]): ({ value: unknown } | { error: Error })[] {
    const out: ({ value: unknown } | { error: Error } | undefined)[] = argsList.map(() => undefined);
    const pending: number[] = [];
    argsList.forEach((args, i) => {
      const key = answerKey(target, method, args);
      if (key !== undefined && this.answers.has(key)) out[i] = { value: this.answers.get(key) };
      else pending.push(i);
    });
    if (pending.length > 0) {
      const c = this.started();
      const what = `${pending.length} × ${method}`;
      const t0 = performance.now();
      this.send({ kind: "batch", calls: pending.map((i) => ({ kind: "call", target, method, args: argsList[i]! })) }, what);
      const reply = this.await(c, what);
      this.stats.requests++;
      this.stats.byMethod.set(method, (this.stats.byMethod.get(method) ?? 0) + 1);
      this.stats.waitMs += performance.now() - t0;
      if (!reply.ok) throw fromWireError(reply.error);
      const replies = reply.value as HostReply[];
      pending.forEach((i, j) => {
        const r = replies[j];
        if (!r) throw new DacHostError("dac-host-failed", `the DAC host answered ${replies.length} of ${pending.length} calls of ${method}`);
        if (!r.ok) {
          out[i] = { error: fromWireError(r.error) };
          return;
        }
        const key = answerKey(target, method, argsList[i]!);
        if (key !== undefined) this.keep(key, r.value);
        out[i] = { value: key !== undefined ? this.answers.get(key) : r.value };
      });
    }
    return out as ({ value: unknown } | { error: Error })[];
  }

  private keep(key: string, value: unknown): void {
    if (this.answers.size >= MAX_KEPT_DAC_ANSWERS) this.answers.clear();
    this.answers.set(key, deepFreeze(value));
  }

  private request(target: "sos" | "xclr", method: string, args: unknown[]): unknown {
    const c = this.started();
    const what = describeCall(method, args);
    const t0 = performance.now();
    this.send({ kind: "call", target, method, args }, what);
    const reply = this.await(c, what);
    this.stats.requests++;
    this.stats.byMethod.set(method, (this.stats.byMethod.get(method) ?? 0) + 1);
    this.stats.waitMs += performance.now() - t0;
    if (!reply.ok) throw fromWireError(reply.error);
    return reply.value;
  }

  /** The running host with its DAC loaded (started, or restarted after a failure, as needed). */
  private started(): Child {
    if (!this.child) this.start();
    const c = this.child!;
    if (c.starting) {
      const reply = this.await(c, "start");
      c.starting = false;
      const value = reply.ok ? (reply.value as { initMs?: number; trusted?: TrustedDac; error?: string }) : { error: fromWireError(reply.error).message };
      if (value.error !== undefined) {
        this.close();
        throw new DacHostError("dac-host-failed", value.error);
      }
      this.initMs = value.initMs;
      this.trusted = value.trusted;
    }
    return c;
  }

  private send(request: HostRequest, what: string): void {
    const c = this.child!;
    const deadline = Date.now() + requestTimeoutMs();
    try {
      writeAllSync(c.requestFd, encodeFrame(request), () => {
        this.checkWaiting(what, deadline);
        sleepMs(LONGEST_PAUSE_MS);
      });
    } catch (e) {
      if (e instanceof ClrscopeError) throw e;
      throw this.died(c, what);
    }
  }

  /**
   * The reply to the request in flight. A reply that cannot be read (a broken frame, a failed
   * read) ends the host: a later request must never read this one's leftover reply.
   */
  private await(c: Child, what: string): HostReply {
    try {
      return this.awaitReply(c, what);
    } catch (e) {
      if (e instanceof DacHostError || e instanceof CancelledError) throw e;
      throw this.died(c, what);
    }
  }

  private awaitReply(c: Child, what: string): HostReply {
    const deadline = Date.now() + requestTimeoutMs();
    const spinUntil = performance.now() + SPIN_MS;
    for (let pause = FIRST_PAUSE_MS; ; ) {
      const message = c.reader.next<HostReply>();
      if (message) return message;
      let n: number;
      try {
        n = readSync(c.replyFd, this.buffer, 0, this.buffer.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        n = -1;
      }
      if (n > 0) {
        c.reader.push(this.buffer.subarray(0, n));
        pause = FIRST_PAUSE_MS;
        continue;
      }
      if (n === 0) throw this.died(c, what);
      if (performance.now() < spinUntil) continue;
      this.checkWaiting(what, deadline);
      sleepMs(pause);
      pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
    }
  }

  /** Between waits: stop on Ctrl-C or when the host takes too long (it is killed; the next need starts another). */
  private checkWaiting(what: string, deadline: number): void {
    if (cancellationRequested()) {
      this.close();
      throw new CancelledError();
    }
    if (Date.now() > deadline) {
      this.close();
      const verb = what === "start" ? "did not start" : `did not answer ${what}`;
      throw new DacHostError("dac-timeout", `the DAC ${verb} within ${requestTimeoutMs() / 1000} s (stopped it); ${afterFailure(what)}`);
    }
  }

  private died(c: Child, what: string): DacHostError {
    const end = endOf(c.pid);
    this.close();
    const during = what === "start" ? "while loading" : `while answering ${what}`;
    return new DacHostError("dac-crashed", `the DAC ${end} ${during}; ${afterFailure(what)}`);
  }

  /** An object with the wrapper's methods, each one request to the host. */
  private proxy<T extends object>(target: "sos" | "xclr", prototype: T): T {
    const out: Record<string, (...args: unknown[]) => unknown> = {};
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === "constructor" || typeof Object.getOwnPropertyDescriptor(prototype, name)?.value !== "function") continue;
      out[name] = (...args: unknown[]) => this.call(target, name, args);
    }
    return out as unknown as T;
  }
}

/** The key an ISOSDacInterface answer is kept under (calls with numbers only); undefined: not kept. */
function answerKey(target: "sos" | "xclr", method: string, args: unknown[]): string | undefined {
  return target === "sos" && args.every((a) => typeof a === "number") ? `${method}(${args.join(",")})` : undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    // Typed arrays cannot be frozen (their bytes are shared by reference; nothing writes them).
    if (ArrayBuffer.isView(value)) return value;
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function tryClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
