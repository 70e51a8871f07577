// The CLI over a dump read with alterations (patched bytes, a cut), as a process of its own, so
// that corruption tests see exit codes, signals and stderr exactly as a user would, without
// writing a damaged copy of a multi-GB dump:
//   node altered-cli.js ALTERATIONS.json analyze DUMP -c ...
// ALTERATIONS.json: {"patches": [{"offset": N, "hex": "00ff..."}], "truncateAt": N}
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { main } from "../../src/cli/main.js";
import type { DumpAlterations } from "../../src/dump/byte-source.js";

interface AlterationsFile {
  patches?: { offset: number; hex: string }[];
  truncateAt?: number;
}

function parseAlterations(json: AlterationsFile): DumpAlterations {
  return {
    patches: (json.patches ?? []).map((p) => ({ offset: p.offset, bytes: Uint8Array.from(Buffer.from(p.hex, "hex")) })),
    truncateAt: json.truncateAt,
  };
}

const [file, ...argv] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write("usage: altered-cli ALTERATIONS.json analyze DUMP ...\n");
  process.exitCode = 2;
} else {
  setFlagsFromString("--no-opt"); // as bin.ts
  const alterations = parseAlterations(JSON.parse(readFileSync(file, "utf8")) as AlterationsFile);
  main(argv, { alterations }).then((code) => {
    process.exitCode = code;
  });
}
