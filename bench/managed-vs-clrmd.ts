// The managed thread and stack commands on a createdump full dump of test/targets/hello:
// clrscope (data contracts, pure TypeScript; source lines for clrstack come through the runtime's
// DAC, so a second row leaves them out with -n, as ClrMD's walk does) against ClrMD 4.1 (the
// runtime's native DAC) on the same dump, process start included. dotnet-dump, the intended peer, cannot be installed on this
// machine (its NuGet package is not in the mirror); ClrMD is what it is built on.
// Run: npm run build && node dist/bench/managed-vs-clrmd.js [RUNS]
import { join } from "node:path";
import { repoRoot } from "../test/support/cache.js";
import { buildClrmdOracle } from "../test/support/clrmd-oracle.js";
import { dotnetDump } from "../test/support/dotnet-fixtures.js";
import { compare, report } from "./measure.js";

const runs = Number(process.argv[2] ?? 5);
const { core } = dotnetDump("hello", "full");
const oracle = buildClrmdOracle();
const cli = join(repoRoot, "dist", "clrscope.js");
const results = compare(
  [
    // One ClrMD process walking every thread's stack (it lists the threads on the way).
    { name: "ClrMD (DAC) stack walk", command: ["dotnet", oracle, core, "stacks"] },
    { name: "clrscope clrthreads+clrstack+pstacks", command: ["node", cli, "analyze", core, "-c", "clrthreads", "-c", "clrstack -all", "-c", "pstacks"] },
    { name: "clrscope ... clrstack -all -n (no lines)", command: ["node", cli, "analyze", core, "-c", "clrthreads", "-c", "clrstack -all -n", "-c", "pstacks"] },
  ],
  runs,
);
console.log(report(`managed threads and stacks, ${runs} runs, ${core}`, results));
