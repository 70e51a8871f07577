// The wire between clrscope and its DAC host process (dac-host.ts): length-prefixed frames of
// structured-clone data (node:v8 serialize), one request answered by one reply, in order.
// Errors cross as data and are rebuilt as the same ClrscopeError class with the same message.
import { writeSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import { CancelledError } from "../../cancellation.js";
import { ClrscopeError, CommandError, CorruptDataError, MemoryNotInDump, type ExitCodeValue } from "../../errors.js";
import type { OpenOptions } from "../../native/process.js";
import { DacCallError } from "./sos-dac.js";
import { MAX_DAC_HOST_MESSAGE_BYTES } from "../../limits.js";

/** The host's fds for the two FIFOs (0-2 are left to the DAC, which may print). */
export const HOST_REQUEST_FD = 3;
export const HOST_REPLY_FD = 4;

/**
 * The first request: open this dump as clrscope did and load its DAC: `dacPath` when the parent
 * already chose it (trusted), else the one findTrustedDac (dac-provenance.ts) finds here, from
 * `userDacPath` (--dac) or the dump's runtime build-id: the parent then need not build the module
 * list before the host starts. The reply: `{ initMs, trusted }` or `{ error }`.
 */
export interface HostInit {
  kind: "init";
  dump: string;
  options: OpenOptions;
  dacPath?: string;
  /** With dacPath: the build stamp both the DAC and the dump's runtime carry (checked by the parent). */
  version?: string;
  /** Without dacPath: `--dac PATH`, checked here as the parent would. */
  userDacPath?: string;
}

/** A call of a method of the DAC's ISOSDacInterface wrapper (SosDac) or IXCLRDataProcess wrapper (XclrDataProcess). */
export interface HostCall {
  kind: "call";
  target: "sos" | "xclr";
  method: string;
  args: unknown[];
}

/** Several calls in one round trip, answered in order, each with its value or its error. */
export interface HostBatch {
  kind: "batch";
  calls: HostCall[];
}

export type HostRequest = HostInit | HostCall | HostBatch;

export interface WireError {
  name: string;
  message: string;
  code?: string;
  exitCode?: ExitCodeValue;
  /** Own fields of the error (DacCallError's call and hr, MemoryNotInDump's address and length). */
  fields: Record<string, unknown>;
}

export type HostReply = { ok: true; value: unknown } | { ok: false; error: WireError };

const FRAME_HEADER = 4;

export function encodeFrame(message: HostRequest | HostReply): Buffer {
  const body = serialize(message);
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUInt32LE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Collects bytes as they arrive and hands out whole messages. */
export class FrameReader {
  // Chunks are joined only once a whole frame is there (a reply of many chunks is copied once).
  private chunks: Buffer[] = [];
  private length = 0;

  push(bytes: Uint8Array): void {
    this.chunks.push(Buffer.from(bytes));
    this.length += bytes.length;
  }

  /** The next whole message, or undefined until more bytes come. */
  next<T>(): T | undefined {
    if (this.length < FRAME_HEADER) return undefined;
    if (this.chunks[0]!.length < FRAME_HEADER) this.join();
    const size = this.chunks[0]!.readUInt32LE(0);
    if (size > MAX_DAC_HOST_MESSAGE_BYTES) throw new CorruptDataError(`the DAC host sent a ${size}-byte message`);
    if (this.length < FRAME_HEADER + size) return undefined;
    const all = this.join();
    const message = deserialize(all.subarray(FRAME_HEADER, FRAME_HEADER + size)) as T;
    const rest = all.subarray(FRAME_HEADER + size);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return message;
  }

  private join(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    return all;
  }
}

/**
 * Writes all of `bytes` to a non-blocking fd, calling `wait()` whenever the pipe is full (the
 * reader is slow); `wait` throws to give up.
 */
export function writeAllSync(fd: number, bytes: Buffer, wait: () => void): void {
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      wait();
    }
  }
}

/** Sleeps the thread (no event loop turn): the waits of a synchronous caller. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function toWireError(e: unknown): WireError {
  if (e instanceof ClrscopeError) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== "code" && k !== "exitCode" && k !== "name") fields[k] = v;
    return { name: e.name, message: e.message, code: e.code, exitCode: e.exitCode, fields };
  }
  return { name: "Error", message: e instanceof Error ? e.message : String(e), fields: {} };
}

// The ClrscopeError classes DAC calls throw; others come back as ClrscopeError with their code.
const ERROR_CLASSES: Record<string, { prototype: ClrscopeError }> = { DacCallError, MemoryNotInDump, CorruptDataError, CommandError, CancelledError };

/** The error the host reported, as the class the DAC call threw there (a bug there stays a plain Error, a bug). */
export function fromWireError(w: WireError): Error {
  if (w.code === undefined) return new Error(`in the DAC host: ${w.message}`);
  const proto = (ERROR_CLASSES[w.name] ?? ClrscopeError).prototype;
  const e = Object.create(proto) as ClrscopeError;
  Object.assign(e, w.fields, { message: w.message, name: w.name, code: w.code, exitCode: w.exitCode });
  e.stack = `${w.name}: ${w.message}\n    at the DAC host`;
  return e;
}
