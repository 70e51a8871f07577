// `bt all` on a large core: clrscope against gdb on the same dump (the `many` fixture: 170
// threads, 20-40 frames each, -O2 -fomit-frame-pointer, so unwinding needs CFI).
// Run: npm run bench   (or: node dist/bench/bt-vs-gdb.js [RUNS])
import { statSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../test/support/cache.js";
import { nativeCore } from "../test/support/native-fixtures.js";
import { compare, report } from "./measure.js";

const runs = Number(process.argv[2] ?? 5);
const { exe, core } = nativeCore("many");
const cli = join(repoRoot, "dist", "clrscope.js"); // the bundled bin, as users run it
const results = compare(
  [
    { name: "gdb -batch thread apply all bt", command: ["gdb", "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt", exe, core] },
    { name: "clrscope analyze -c 'bt all'", command: ["node", cli, "analyze", core, "--exe", exe, "-c", "bt all"] },
  ],
  runs,
);
console.log(report(`bt all, ${runs} runs, core ${core} (${(statSync(core).size / 1e6).toFixed(0)} MB)`, results));
