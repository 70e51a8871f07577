// One diagnostics IPC exchange: connect to the runtime's Unix socket, send one command, read one
// reply, close (the protocol carries one command per connection). Everything is bounded: the
// whole exchange by a timeout, the reply by its uint16 size field; each failure is typed.
import * as net from "node:net";
import { DiagnosticsIpcError, ProcessAccessError } from "../errors.js";
import { HEADER_SIZE, decodeHeader, decodeMessage, type IpcMessage } from "./ipc-protocol.js";

/** Default for short queries (ProcessInfo). */
export const QUERY_TIMEOUT_MS = 5_000;

export interface ExchangeOptions {
  /** The whole exchange (connect, send, reply) must end within this many ms. */
  timeoutMs?: number;
  /** Names the target in error messages, e.g. "process 1234". */
  target?: string;
  /** What to do when the socket refuses us (EACCES), e.g. which user to run as. */
  permissionAdvice?: string;
  /** Ends the exchange early, rejecting with the signal's reason (a ClrscopeError). */
  signal?: AbortSignal;
}

/**
 * Sends `request` to the diagnostics socket at `socketPath` and resolves with the reply message.
 * Rejects with ProcessAccessError (permission-denied, not-dotnet when the socket is gone or
 * nobody listens) or DiagnosticsIpcError (timeout, protocol-error, connection-failed).
 */
export function exchange(socketPath: string, request: Buffer, options: ExchangeOptions = {}): Promise<IpcMessage> {
  // setTimeout takes at most 2^31-1 ms (more fires at once, with a warning).
  const timeoutMs = Math.min(options.timeoutMs ?? QUERY_TIMEOUT_MS, 2 ** 31 - 1);
  const target = options.target ?? socketPath;
  return new Promise<IpcMessage>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let expected = 0; // total size, once the header is in
    let done = false;
    const socket = net.createConnection({ path: socketPath });
    const finish = (error: Error | null, message?: IpcMessage): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
      socket.destroy();
      if (error) reject(error);
      else resolve(message!);
    };
    const timer = setTimeout(() => {
      const state = received === 0 ? "no reply" : `${received} of ${expected || "?"} bytes of the reply`;
      finish(new DiagnosticsIpcError("timeout", `${target} did not answer within ${(timeoutMs / 1000).toFixed(1)} s (${state}) on ${socketPath}`));
    }, timeoutMs);
    const abort = (): void => finish(options.signal!.reason as Error);
    if (options.signal?.aborted) return abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      try {
        if (expected === 0 && received >= HEADER_SIZE) expected = decodeHeader(Buffer.concat(chunks)).size;
        if (expected > 0 && received >= expected) finish(null, decodeMessage(Buffer.concat(chunks).subarray(0, expected)));
      } catch (e) {
        finish(e as Error);
      }
    });
    socket.on("end", () => {
      const what = received === 0 ? "closed the connection without a reply" : `closed the connection after ${received} of ${expected || HEADER_SIZE} bytes of the reply`;
      finish(new DiagnosticsIpcError("protocol-error", `malformed diagnostics reply: ${target} ${what}`));
    });
    socket.on("close", () => finish(new DiagnosticsIpcError("connection-failed", `the connection to ${target} closed unexpectedly`)));
    socket.on("error", (e: NodeJS.ErrnoException) => finish(connectionError(e, socketPath, target, options.permissionAdvice)));
  });
}

function connectionError(e: NodeJS.ErrnoException, socketPath: string, target: string, advice = "run clrscope as the same user as the process, or as root; in a container, add CAP_SYS_PTRACE"): Error {
  switch (e.code) {
    case "EACCES":
    case "EPERM":
      return new ProcessAccessError("permission-denied", `permission denied connecting to the diagnostics socket of ${target}, ${socketPath}: ${advice}`);
    case "ENOENT":
      return new ProcessAccessError("not-dotnet", `${target}'s diagnostics socket ${socketPath} is gone (the process exited?)`);
    case "ECONNREFUSED":
      return new ProcessAccessError("not-dotnet", `nothing listens on ${target}'s diagnostics socket ${socketPath} (a stale socket of an exited .NET process?)`);
    case "ECONNRESET":
    case "EPIPE":
      return new DiagnosticsIpcError("connection-failed", `${target} reset the diagnostics connection (${e.code})`);
    default:
      return new DiagnosticsIpcError("connection-failed", `cannot talk to ${target} on ${socketPath}: ${e.message}`);
  }
}
