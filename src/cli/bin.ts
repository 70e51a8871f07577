#!/usr/bin/env node
// The clrscope executable: process-wide settings, then main(). Bundled (dist/clrscope.js), this
// file is also what the REPL's session worker loads: there it leaves the work to session-worker.ts.
import { setFlagsFromString } from "node:v8";
import { isMainThread } from "node:worker_threads";
import { main } from "./main.js";
import { exitOnStdoutError } from "./output.js";

// A closed pipe (clrscope ... | head) ends the run quietly with 0; a full disk or an I/O error
// with one line and exit 74, not a stack trace. stderr has nowhere to report its own failures.
process.stdout.on("error", exitOnStdoutError);
process.stderr.on("error", () => {});

// Node 20 can deadlock at exit when a background TurboFan job waits for a GC that the exiting
// main thread will never run (nodejs/node#54918; seen here: `analyze -c "bt all"` hung in
// NodePlatform::DrainTasks about once in 40 runs). Without the optimizing tier there are no
// such jobs, and the native commands run as fast (measured: 264 ms vs 274 ms for bt all on
// the bench core; compiling on the main thread instead costs 300 ms). Heap walks, which need
// optimized code, will have to revisit this.
setFlagsFromString("--no-opt");

if (isMainThread) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
