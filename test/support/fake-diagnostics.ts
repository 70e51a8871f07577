// A fake .NET diagnostics server and a fake /proc tree, for testing the IPC client without a
// runtime. Messages are built here with plain Buffer writes, independently of
// src/collect/ipc-protocol.ts, following dotnet/diagnostics documentation/design-docs/ipc-protocol.md.
import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

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

/**
 * A fake diagnostics server as a separate process, to run as another user (e.g. nobody). Node
 * built-ins only, run with `node -e`, so that user needs no access to this repository.
 */
export interface ForeignServerConfig {
  /** Socket paths to listen on (planted names). */
  sockets: string[];
  /** Also listen on the runtime's name for this server's own pid in this directory: a fake .NET process. */
  ownSocketDir?: string;
  /** [link, target] symlinks to create once listening. */
  symlinks?: [string, string][];
  /** Reply bytes (hex) by command set (1 dump, 4 process); a set without one is never answered. */
  replies: Record<string, string>;
  /** On a dump request, first create a symlink at the requested path pointing here. */
  dumpSymlinkTo?: string;
}

const FOREIGN_SERVER_SOURCE = `
const fs = require("fs"), net = require("net"), path = require("path");
const c = JSON.parse(process.argv[1]);
const say = (l) => process.stdout.write(l + "\\n");
const paths = [...c.sockets];
let own = null;
if (c.ownSocketDir) {
  const st = fs.readFileSync("/proc/self/stat", "utf8");
  const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
  own = path.join(c.ownSocketDir, "dotnet-diagnostic-" + process.pid + "-" + f[19] + "-socket");
  paths.push(own);
}
const handle = (sock) => {
  let buf = Buffer.alloc(0);
  sock.on("error", () => {});
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length < 20 || buf.length < buf.readUInt16LE(14)) return;
    sock.removeAllListeners("data");
    const set = buf[16], id = buf[17];
    let file = "";
    if (set === 1) file = buf.subarray(24, 24 + buf.readUInt32LE(20) * 2).toString("utf16le").replace(/\\0$/, "");
    say("REQUEST " + set + " " + id + " " + JSON.stringify(file));
    if (set === 1 && c.dumpSymlinkTo) fs.symlinkSync(c.dumpSymlinkTo, file);
    const r = c.replies[String(set)];
    if (r !== undefined) sock.end(Buffer.from(r, "hex"));
  });
};
let pending = paths.length;
for (const p of paths) net.createServer(handle).listen(p, () => {
  if (--pending > 0) return;
  for (const [l, t] of c.symlinks || []) fs.symlinkSync(t, l);
  say("READY " + process.pid + " " + JSON.stringify(own));
});
`;

export interface ForeignServer {
  pid: number;
  /** The socket named for its own pid (with ownSocketDir), else null. */
  ownSocket: string | null;
  /** One line per request received: `REQUEST <set> <id> "<dump path>"`. */
  requests: string[];
  /** Resolves at the next request (or at once if there was one). */
  nextRequest(): Promise<string>;
  kill(): void;
}

/** Starts FOREIGN_SERVER_SOURCE as `user`; resolves once every socket listens. */
export function startForeignServer(config: ForeignServerConfig, user: { uid: number; gid: number }): Promise<ForeignServer> {
  const child = spawn(process.execPath, ["-e", FOREIGN_SERVER_SOURCE, JSON.stringify(config)], {
    ...user,
    cwd: "/",
    // A fake .NET process's runtime would put its socket in its TMPDIR: ps and collect look there.
    env: { ...process.env, ...(config.ownSocketDir ? { TMPDIR: config.ownSocketDir } : {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const requests: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`the foreign server exited (${code ?? signal}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("READY ")) {
        const [, pid, own] = /^READY (\d+) (.*)$/.exec(line)!;
        resolve({
          pid: Number(pid),
          ownSocket: JSON.parse(own!) as string | null,
          requests,
          nextRequest: () => (requests.length > 0 ? Promise.resolve(requests[requests.length - 1]!) : new Promise((r) => waiters.push(r))),
          kill: () => {
            child.removeAllListeners("exit");
            child.kill("SIGKILL");
          },
        });
      } else if (line.startsWith("REQUEST ")) {
        requests.push(line);
        for (const w of waiters.splice(0)) w(line);
      }
    });
  });
}
