// The runtime's product version in the open banner (`status`): from the shared framework's path
// (.NET 10 here), or, for self-contained apps whose libcoreclr.so sits in the app's folder, from
// System.Private.CoreLib's AssemblyInformationalVersion read from the dump. Oracle: the version
// the app itself reported (Environment.Version) in its truth file.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCliJson } from "../support/cli.js";
import { dotnetDump, hasDotnet, type DumpType } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

const cases: { framework?: string; type: DumpType }[] = [
  { type: "full" },
  { framework: "net9.0", type: "full" },
  { framework: "net8.0", type: "full" },
  { framework: "net9.0", type: "heap" },
];

for (const { framework, type } of cases) {
  test(`status names the runtime version the app reported (${framework ?? "net10.0, shared runtime"}, ${type} dump)`, { skip, timeout: 900_000 }, () => {
    const d = dotnetDump("hello", type, framework);
    const { docs, status, stderr } = runCliJson(d.core, ["status"]);
    assert.equal(status, 0, stderr);
    const runtime = docs.find((x) => x.command === "status")!.result.runtime as { path: string; version: string | null };
    assert.equal(runtime.version, d.truth.runtimeVersion);
    if (framework) assert.doesNotMatch(runtime.path, /Microsoft\.NETCore\.App/, "a self-contained app's runtime is not in a shared framework folder");
  });
}
