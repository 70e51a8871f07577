// The .NET runtime's diagnostics IPC protocol (dotnet/diagnostics
// documentation/design-docs/ipc-protocol.md): message encoding and decoding as pure functions
// over Buffers. Every length read from a reply is checked against the bytes that arrived, so a
// damaged reply ends in a DiagnosticsIpcError, never in a RangeError or a huge allocation.
import { DiagnosticsIpcError, RuntimeReportedError } from "../errors.js";
import { hexPadded } from "../hex.js";

/** "DOTNET_IPC_V1\0": the first 14 bytes of every message. */
export const IPC_MAGIC = Buffer.from("DOTNET_IPC_V1\0", "latin1");
/** magic[14] + uint16 size + uint8 command set + uint8 command id + uint16 reserved. */
export const HEADER_SIZE = 20;
/** The size field is a uint16 covering header and payload. */
export const MAX_MESSAGE_SIZE = 0xffff;

export const CommandSet = { dump: 0x01, eventPipe: 0x02, profiler: 0x03, process: 0x04, server: 0xff } as const;
export const DumpCommand = { generateCoreDump: 0x01, generateCoreDump2: 0x02, generateCoreDump3: 0x03 } as const;
export const ProcessCommand = { processInfo: 0x00, processInfo2: 0x04, processInfo3: 0x08 } as const;
export const ServerResponse = { ok: 0x00, error: 0xff } as const;

/** The runtime's dump types (ds-dump-protocol.c); `mini` is "Normal". */
export const DUMP_TYPES = { mini: 1, heap: 2, triage: 3, full: 4 } as const;
export type DumpTypeName = keyof typeof DUMP_TYPES;

/** WriteDumpFlags of the dump commands. */
export const DumpFlags = { loggingEnabled: 0x01, verboseLoggingEnabled: 0x02, crashReportEnabled: 0x04 } as const;

/** HRESULTs the diagnostics server sends (ds-protocol.h), by name, for messages. */
export const IPC_HRESULTS: Record<number, string> = {
  0x80131384: "DS_IPC_E_BAD_ENCODING",
  0x80131385: "DS_IPC_E_UNKNOWN_COMMAND",
  0x80131386: "DS_IPC_E_UNKNOWN_MAGIC",
  0x80131515: "DS_IPC_E_NOTSUPPORTED",
  0x80004005: "DS_IPC_E_FAIL",
  0x8013135b: "DS_IPC_E_NOT_YET_AVAILABLE",
  0x80131371: "DS_IPC_E_RUNTIME_UNINITIALIZED",
  0x80070057: "DS_IPC_E_INVALIDARG",
  0x8007007a: "DS_IPC_E_INSUFFICIENT_BUFFER",
  0x800000cb: "DS_IPC_E_ENVVAR_NOT_FOUND",
};
export const HRESULT_UNKNOWN_COMMAND = 0x80131385;

export interface IpcHeader {
  /** Header plus payload, in bytes. */
  size: number;
  commandSet: number;
  commandId: number;
  reserved: number;
}

export interface IpcMessage {
  header: IpcHeader;
  payload: Buffer;
}

function protocolError(what: string): DiagnosticsIpcError {
  return new DiagnosticsIpcError("protocol-error", `malformed diagnostics reply: ${what}`);
}

// ---- encoding ---------------------------------------------------------------------------------

/** A request: header (with the total size) followed by `payload`. */
export function encodeMessage(commandSet: number, commandId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const size = HEADER_SIZE + payload.length;
  if (size > MAX_MESSAGE_SIZE) throw new RangeError(`diagnostics message of ${size} bytes exceeds ${MAX_MESSAGE_SIZE}`);
  const header = Buffer.alloc(HEADER_SIZE);
  IPC_MAGIC.copy(header, 0);
  header.writeUInt16LE(size, 14);
  header.writeUInt8(commandSet, 16);
  header.writeUInt8(commandId, 17);
  header.writeUInt16LE(0, 18);
  return Buffer.concat([header, payload]);
}

/** A protocol string: uint32 length in UTF-16 units including the NUL, the units, the NUL (0 for null). */
export function encodeString(s: string | null): Buffer {
  if (s === null) return Buffer.alloc(4);
  const chars = Buffer.from(s + "\0", "utf16le");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(chars.length / 2, 0);
  return Buffer.concat([length, chars]);
}

function encodeUInt32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

/**
 * GenerateCoreDump(1|2|3): `string dumpName; uint32 dumpType; uint32 flags` (for command 1 the
 * third field is "diagnostics", 0 or 1, which is LoggingEnabled's bit).
 */
export function encodeDumpRequest(commandId: number, dumpPath: string, dumpType: DumpTypeName, flags: number): Buffer {
  return encodeMessage(CommandSet.dump, commandId, Buffer.concat([encodeString(dumpPath), encodeUInt32(DUMP_TYPES[dumpType]), encodeUInt32(flags)]));
}

// ---- decoding ---------------------------------------------------------------------------------

/** Reads the header at the start of `bytes` (at least HEADER_SIZE of them). */
export function decodeHeader(bytes: Uint8Array): IpcHeader {
  if (bytes.length < HEADER_SIZE) throw protocolError(`header cut short (${bytes.length} of ${HEADER_SIZE} bytes)`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  if (!b.subarray(0, 14).equals(IPC_MAGIC)) throw protocolError(`wrong magic ${JSON.stringify(b.subarray(0, 14).toString("latin1"))}`);
  const header = { size: b.readUInt16LE(14), commandSet: b[16]!, commandId: b[17]!, reserved: b.readUInt16LE(18) };
  if (header.size < HEADER_SIZE) throw protocolError(`size field ${header.size} is smaller than the header`);
  return header;
}

/**
 * One whole message from `bytes` (a reply as received): the header and exactly `size - 20`
 * payload bytes. Bytes after the message are not part of it (a continuation) and are ignored.
 */
export function decodeMessage(bytes: Uint8Array): IpcMessage {
  const header = decodeHeader(bytes);
  if (bytes.length < header.size) throw protocolError(`cut short: ${bytes.length} of ${header.size} bytes`);
  const payload = Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_SIZE, header.size - HEADER_SIZE);
  return { header, payload };
}

/** Sequential reads from a payload, each checked against its end. */
export class PayloadReader {
  private offset = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, field: string): void {
    if (this.remaining < n) throw protocolError(`${this.what}: ${field} needs ${n} bytes, ${this.remaining} left`);
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.bytes.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  i32(field: string): number {
    this.need(4, field);
    const v = this.bytes.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A uint64 that must be a safe integer (a pid). */
  u64(field: string): number {
    this.need(8, field);
    const v = this.bytes.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw protocolError(`${this.what}: ${field} ${v} is out of range`);
    return Number(v);
  }

  /** A GUID in its usual text form (the first three groups are little-endian, as .NET's Guid(byte[])). */
  guid(field: string): string {
    this.need(16, field);
    const b = this.bytes.subarray(this.offset, this.offset + 16);
    this.offset += 16;
    const h = (from: number, to: number, reverse: boolean) => {
      const part = Buffer.from(b.subarray(from, to));
      return (reverse ? part.reverse() : part).toString("hex");
    };
    return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
  }

  /** A protocol string (null when its length is 0); the terminating NUL is dropped. */
  string(field: string): string | null {
    const units = this.u32(`${field} length`);
    if (units === 0) return null;
    // Check before multiplying: a length near 2^32 must not become a huge read.
    if (units > this.remaining / 2) throw protocolError(`${this.what}: ${field} of ${units} UTF-16 units, only ${this.remaining} bytes left`);
    const bytes = this.bytes.subarray(this.offset, this.offset + units * 2);
    this.offset += units * 2;
    const s = bytes.toString("utf16le");
    return s.endsWith("\0") ? s.slice(0, -1) : s;
  }
}

/** A Server-set reply: OK with its payload, or Error with the HRESULT (and message, if sent). */
export type ServerReply = { ok: true; payload: Buffer } | { ok: false; hresult: number; message: string | null };

/**
 * Classifies a reply. `withErrorMessage`: the command's error replies carry a string after the
 * HRESULT (GenerateCoreDump3); an error reply too short for it still yields its HRESULT.
 */
export function decodeServerReply(message: IpcMessage, withErrorMessage = false): ServerReply {
  const { header, payload } = message;
  if (header.commandSet !== CommandSet.server) throw protocolError(`command set 0x${header.commandSet.toString(16)} where the server set (0xff) was expected`);
  if (header.commandId === ServerResponse.ok) return { ok: true, payload };
  if (header.commandId !== ServerResponse.error) throw protocolError(`unknown server response 0x${header.commandId.toString(16)}`);
  const r = new PayloadReader(payload, "error reply");
  const hresult = r.u32("HRESULT");
  const message_ = withErrorMessage && r.remaining >= 4 ? r.string("error message") : null;
  return { ok: false, hresult, message: message_ };
}

/** "0x80131385 (DS_IPC_E_UNKNOWN_COMMAND)" */
export function describeHresult(hresult: number): string {
  const name = IPC_HRESULTS[hresult];
  return `${hexPadded(hresult >>> 0, 8)}${name ? ` (${name})` : ""}`;
}

/** The error a failed reply becomes: `operation failed: HRESULT ...: message`. */
export function runtimeError(operation: string, reply: { hresult: number; message: string | null }): RuntimeReportedError {
  // createdump's message has a line per event ("[createdump] Could not create ...\n[createdump] Failure took 628ms"): one line for people.
  const lines = (reply.message ?? "").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const text = lines.length > 0 ? `: ${lines.join("; ")}` : "";
  return new RuntimeReportedError(reply.hresult, reply.message, `${operation} failed: the runtime answered HRESULT ${describeHresult(reply.hresult)}${text}`);
}

// ---- process information ----------------------------------------------------------------------

/** What ProcessInfo (1), ProcessInfo2 (2) or ProcessInfo3 (3) tells about the runtime's process. */
export interface ProcessInfo {
  /** Which command answered: 1, 2 or 3. */
  infoVersion: 1 | 2 | 3;
  /** The pid as the runtime sees it (inside its PID namespace). */
  pid: number;
  runtimeCookie: string;
  commandLine: string | null;
  os: string | null;
  arch: string | null;
  /** ProcessInfo2+: the entry assembly's name. */
  managedEntrypointAssemblyName: string | null;
  /** ProcessInfo2+: e.g. "10.0.12+abc..." */
  clrProductVersion: string | null;
  /** ProcessInfo3 (version >= 1): e.g. "linux-x64". */
  runtimeIdentifier: string | null;
}

/** The payload of a ProcessInfo/2/3 OK reply (ProcessInfo.cs ParseV1/V2/V3 order). */
export function decodeProcessInfo(payload: Buffer, infoVersion: 1 | 2 | 3): ProcessInfo {
  const r = new PayloadReader(payload, `ProcessInfo${infoVersion === 1 ? "" : infoVersion} reply`);
  const layoutVersion = infoVersion === 3 ? r.u32("version") : 0;
  const info: ProcessInfo = {
    infoVersion,
    pid: r.u64("pid"),
    runtimeCookie: r.guid("runtime cookie"),
    commandLine: r.string("command line"),
    os: r.string("OS"),
    arch: r.string("architecture"),
    managedEntrypointAssemblyName: null,
    clrProductVersion: null,
    runtimeIdentifier: null,
  };
  if (infoVersion >= 2) {
    info.managedEntrypointAssemblyName = r.string("entry assembly");
    info.clrProductVersion = r.string("runtime version");
  }
  if (infoVersion === 3 && layoutVersion >= 1) info.runtimeIdentifier = r.string("runtime identifier");
  return info;
}

/** "10.0.12+5cb..." -> "10.0.12" (SemVer without build metadata). */
export function runtimeVersionOf(clrProductVersion: string | null): string | null {
  if (!clrProductVersion) return null;
  return clrProductVersion.split("+")[0]!;
}
