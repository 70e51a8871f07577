#!/usr/bin/env node
// The clrscope executable: process-wide settings, then main().
import { setFlagsFromString } from "node:v8";
import { main } from "./main.js";

// Quietly stop when the reader of our output goes away (clrscope ... | head).
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

// Node 20 can deadlock at exit when a background TurboFan job waits for a GC that the exiting
// main thread will never run (nodejs/node#54918; seen here: `analyze -c "bt all"` hung in
// NodePlatform::DrainTasks about once in 40 runs). Without the optimizing tier there are no
// such jobs, and the native commands run as fast (measured: 264 ms vs 274 ms for bt all on
// the bench core; compiling on the main thread instead costs 300 ms). Heap walks, which need
// optimized code, will have to revisit this.
setFlagsFromString("--no-opt");

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
