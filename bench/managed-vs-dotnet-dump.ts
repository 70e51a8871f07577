// DESIGN's speed targets against SOS itself: the same commands through `dotnet-dump analyze`
// (10.0.750501, the tests' oracle) and through clrscope on the same createdump full dumps of
// test/targets/hello and scenarios, process start included, alternating, medians and ratios.
//  - clrthreads + clrstack -all + pstacks: target at most 0.5x of dotnet-dump.
//  - dumpmt -md and name2ee: target at most 0.5x too.
// Run: npm run build && node dist/bench/managed-vs-dotnet-dump.js [RUNS]
import { join } from "node:path";
import { repoRoot } from "../test/support/cache.js";
import { dotnetDump, scenarioDump } from "../test/support/dotnet-fixtures.js";
import { installDotnetDump } from "../test/support/sos-oracle.js";
import { compare, report } from "./measure.js";

const runs = Number(process.argv[2] ?? 5);
const sos = installDotnetDump();
const cli = join(repoRoot, "dist", "clrscope.js"); // the bundled bin, as users run it

/** Each tool in one process running `commands` in order, then exiting. */
function sideBySide(title: string, core: string, commands: string[]): void {
  const results = compare(
    [
      { name: "dotnet-dump analyze", command: [sos, "analyze", core, ...commands.flatMap((c) => ["-c", c]), "-c", "exit"] },
      { name: "clrscope analyze", command: ["node", cli, "analyze", core, ...commands.flatMap((c) => ["-c", c])] },
    ],
    runs,
  );
  console.log(report(`${title}: ${commands.join("; ")} (${runs} runs, ${core})`, results) + "\n");
}

const hello = dotnetDump("hello", "full");
for (const [target, d] of [["hello", hello], ["scenarios", scenarioDump("full")]] as const) {
  sideBySide(`${target}, threads and stacks`, d.core, ["clrthreads", "clrstack -all", "pstacks"]);
}
const stringMt = hello.truth.methodTables["System.String"]!;
sideBySide("hello, type commands", hello.core, [`dumpmt -md ${stringMt}`, "name2ee *!System.String", "name2ee hello.dll Hello.Program"]);
