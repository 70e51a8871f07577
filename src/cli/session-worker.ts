// The REPL's session worker: a worker thread that owns the open dump and runs the command lines
// the main thread sends, one at a time. Commands are synchronous; running them here leaves the
// main thread free to read the terminal, so that Ctrl-C can set the cancellation flag that the
// command's loops check (src/cancellation.ts) while it runs.
//
// The worker loads this module's file: dist/src/cli/session-worker.js, or the bundled bin
// (dist/clrscope.js), whose entry does not run main() off the main thread.
import { isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { useCancellationFlag } from "../cancellation.js";
import { redirectOutput, reportFatal } from "./output.js";
import { openSession, type AnalyzeSession, type SessionOptions } from "./session.js";

/** The file a session worker runs. */
export const SESSION_WORKER_URL = new URL(import.meta.url);

export interface SessionWorkerData {
  kind: "clrscope-session";
  options: SessionOptions;
  /** The cancellation flag (one Int32 in shared memory): the main thread clears it before each command and sets it on Ctrl-C. */
  cancel: Int32Array;
  /** Set when the REPL reopens the dump after abandoning a command: the thread selected then. */
  reopenAt?: number;
}

/** Main thread -> worker. */
export type ToSessionWorker = { kind: "run"; line: string } | { kind: "close" };

/** Worker -> main thread, in order. */
export type FromSessionWorker =
  | { kind: "stdout" | "stderr"; text: string }
  | { kind: "opened" }
  /** The dump did not open; the error line was sent on stderr. */
  | { kind: "open-failed"; exitCode: number }
  /** The command line finished (ok, failed or cancelled); the thread now selected. */
  | { kind: "done"; currentThread: number };

function post(port: MessagePort, message: FromSessionWorker): void {
  port.postMessage(message);
}

function serve(port: MessagePort, data: SessionWorkerData): void {
  useCancellationFlag(data.cancel);
  redirectOutput({ stdout: (text) => post(port, { kind: "stdout", text }), stderr: (text) => post(port, { kind: "stderr", text }) });
  let session: AnalyzeSession;
  try {
    session = openSession(data.options, data.reopenAt);
  } catch (e) {
    post(port, { kind: "open-failed", exitCode: reportFatal(e, data.options.debug) });
    port.close();
    return;
  }
  post(port, { kind: "opened" });
  port.on("message", (m: ToSessionWorker) => {
    if (m.kind === "close") {
      session.close();
      port.close();
      return;
    }
    session.execute(m.line);
    post(port, { kind: "done", currentThread: session.state.currentThread });
  });
}

if (!isMainThread && parentPort && (workerData as Partial<SessionWorkerData> | null)?.kind === "clrscope-session") {
  serve(parentPort, workerData as SessionWorkerData);
}
