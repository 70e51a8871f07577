// A fake .NET diagnostics server and a fake /proc tree, for testing the IPC client without a
// runtime. Messages are built here with plain Buffer writes, independently of
// src/collect/ipc-protocol.ts, following dotnet/diagnostics documentation/design-docs/ipc-protocol.md.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";

const MAGIC = "DOTNET_IPC_V1\0";

/** A message: the 20-byte header (magic, uint16 total size, set, id, reserved 0) and the payload. */
export function message(commandSet: number, commandId: number, payload: Buffer = Buffer.alloc(0), sizeOverride?: number): Buffer {
  const header = Buffer.alloc(20);
  header.write(MAGIC, 0, "latin1");
  header.writeUInt16LE(sizeOverride ?? 20 + payload.length, 14);
  header[16] = commandSet;
  header[17] = commandId;
  return Buffer.concat([header, payload]);
}

export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

export const u64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};

/** uint32 UTF-16 unit count including the NUL, then the units and the NUL. */
export function str(s: string): Buffer {
  return Buffer.concat([u32(s.length + 1), Buffer.from(s + "\0", "utf16le")]);
}

export const okReply = (payload: Buffer = u32(0)): Buffer => message(0xff, 0x00, payload);
export const errorReply = (hresult: number, text?: string): Buffer => message(0xff, 0xff, Buffer.concat([u32(hresult), ...(text === undefined ? [] : [str(text)])]));

export interface FakeProcessInfo {
  pid: number;
  cookie: Buffer; // 16 bytes
  commandLine: string;
  os: string;
  arch: string;
  entryAssembly: string;
  clrVersion: string;
  rid: string;
}

/** ProcessInfo3 OK reply payload: uint32 version 1, the ProcessInfo2 fields, the RID. */
export function processInfo3Payload(p: FakeProcessInfo): Buffer {
  return Buffer.concat([u32(1), u64(p.pid), p.cookie, str(p.commandLine), str(p.os), str(p.arch), str(p.entryAssembly), str(p.clrVersion), str(p.rid)]);
}

/** ProcessInfo2 OK reply payload. */
export function processInfo2Payload(p: FakeProcessInfo): Buffer {
  return Buffer.concat([u64(p.pid), p.cookie, str(p.commandLine), str(p.os), str(p.arch), str(p.entryAssembly), str(p.clrVersion)]);
}

/** A request as the server parsed it. */
export interface FakeRequest {
  commandSet: number;
  commandId: number;
  payload: Buffer;
}

/** A dump request's payload: string path, uint32 type, uint32 flags. */
export function parseDumpRequest(payload: Buffer): { path: string; type: number; flags: number } {
  const units = payload.readUInt32LE(0);
  const path = payload.subarray(4, 4 + units * 2).toString("utf16le").replace(/\0$/, "");
  const at = 4 + units * 2;
  return { path, type: payload.readUInt32LE(at), flags: payload.readUInt32LE(at + 4) };
}

export interface FakeServer {
  socketPath: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

/**
 * Listens on `socketPath`; for each connection reads one request and calls `respond`, which
 * writes whatever it likes to the socket (and ends it, or not).
 */
export function startFakeServer(socketPath: string, respond: (request: FakeRequest, socket: net.Socket) => void): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    let handled = false;
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (handled || buf.length < 20) return;
      const size = buf.readUInt16LE(14);
      if (buf.length < size) return;
      handled = true;
      const request = { commandSet: buf[16]!, commandId: buf[17]!, payload: buf.subarray(20, size) };
      requests.push(request);
      respond(request, socket);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () =>
      resolve({
        socketPath,
        requests,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

export interface FakeProc {
  pid: number;
  /** Start time in clock ticks (the socket name's key). */
  startTime: number;
  name?: string;
  state?: string;
  uid?: number;
  /** NSpid values, host first (one value: not namespaced). */
  nsPids?: number[];
  environ?: Record<string, string>;
  cmdline?: string[];
  threads?: number;
  /** For a namespaced process: the directory its /proc/PID/root points at. */
  root?: string;
}

/** Writes procRoot/PID/{stat,status,cmdline,environ,task/*,root} as Linux lays them out. */
export function writeFakeProc(procRoot: string, p: FakeProc): void {
  const dir = join(procRoot, String(p.pid));
  mkdirSync(join(dir, "task"), { recursive: true });
  const name = p.name ?? "dotnet";
  // Fields after "(comm)": state is field 3, starttime field 22.
  const after = [p.state ?? "S", ...Array.from({ length: 18 }, () => "0"), String(p.startTime), "0", "0"];
  writeFileSync(join(dir, "stat"), `${p.pid} (${name}) ${after.join(" ")}\n`);
  const uid = p.uid ?? 1000;
  writeFileSync(join(dir, "status"), `Name:\t${name}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nNSpid:\t${(p.nsPids ?? [p.pid]).join("\t")}\n`);
  writeFileSync(join(dir, "cmdline"), (p.cmdline ?? [name]).map((a) => a + "\0").join(""));
  writeFileSync(join(dir, "environ"), Object.entries(p.environ ?? {}).map(([k, v]) => `${k}=${v}\0`).join(""));
  for (let i = 0; i < (p.threads ?? 1); i++) mkdirSync(join(dir, "task", String(p.pid + i)), { recursive: true });
  if (p.root) symlinkSync(p.root, join(dir, "root"));
}
