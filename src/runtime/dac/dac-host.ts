// The DAC host: a process of its own that opens the dump read-only, loads the runtime's native
// DAC and answers clrscope's calls on it (dac-host-client.ts starts it). A crash or a hang in the
// DAC's native code then costs this process, not the user's session.
//   node dac-host.js   (fd 3: requests, fd 4: replies; frames of host-protocol.ts)
import { Socket } from "node:net";
import { openCoreDump } from "../../native/process.js";
import { encodeFrame, FrameReader, HOST_REPLY_FD, HOST_REQUEST_FD, sleepMs, toWireError, writeAllSync, type HostCall, type HostReply, type HostRequest } from "./host-protocol.js";
import { loadKoffi } from "./koffi.js";
import { loadDac, type LoadedDac } from "./load-dac.js";
import { findTrustedDac, type TrustedDac } from "./dac-provenance.js";

const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

/** Die with the parent even while stuck in the DAC's native code (no orphan spinning forever). */
function dieWithParent(): void {
  const parent = process.ppid;
  const { koffi } = loadKoffi();
  try {
    koffi?.load("libc.so.6").func("int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)")(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  } catch {
    // without prctl the closed request pipe still ends us between calls
  }
  if (process.ppid !== parent || parent === 1) process.exit(0);
}

let dac: LoadedDac | undefined;

/** Only the wrappers' own methods may be called (never a property or a method of Object). */
function call(request: HostCall): unknown {
  if (!dac) throw new Error("the DAC is not loaded");
  const target: object = request.target === "sos" ? dac.sos : dac.xclr;
  const proto = Object.getPrototypeOf(target) as Record<string, unknown>;
  const method = Object.hasOwn(proto, request.method) && request.method !== "constructor" ? proto[request.method] : undefined;
  if (typeof method !== "function") throw new Error(`no method ${request.target}.${request.method}`);
  return (method as (...a: unknown[]) => unknown).apply(target, request.args);
}

function answer(request: HostRequest): HostReply {
  try {
    if (request.kind === "call") return { ok: true, value: call(request) };
    if (request.kind === "batch") return { ok: true, value: request.calls.map((c) => answer(c)) };
    const process = openCoreDump(request.dump, request.options);
    const trusted: TrustedDac | { error: string } =
      request.dacPath !== undefined ? { path: request.dacPath, source: "chosen by clrscope", version: request.version } : findTrustedDac(process, request.userDacPath);
    if ("error" in trusted) return { ok: true, value: { error: trusted.error } };
    const loaded = loadDac(process, trusted.path, trusted.version);
    if (!loaded.dac) return { ok: true, value: { error: loaded.error } };
    dac = loaded.dac;
    return { ok: true, value: { initMs: dac.initMs, trusted } };
  } catch (e) {
    return { ok: false, error: toWireError(e) };
  }
}

function reply(message: HostReply): void {
  try {
    writeAllSync(HOST_REPLY_FD, encodeFrame(message), () => sleepMs(1));
  } catch {
    process.exit(0); // the parent is gone
  }
}

dieWithParent();
const reader = new FrameReader();
const requests = new Socket({ fd: HOST_REQUEST_FD, readable: true, writable: false });
requests.on("data", (chunk: Buffer) => {
  reader.push(chunk);
  for (let r = reader.next<HostRequest>(); r !== undefined; r = reader.next<HostRequest>()) reply(answer(r));
});
// The parent closed its end (it ended, or is done with us).
requests.on("end", () => process.exit(0));
requests.on("error", () => process.exit(0));
