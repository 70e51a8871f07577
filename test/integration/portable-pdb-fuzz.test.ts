// Bounded property tests for the portable PDB reader: mutated and truncated copies of real PDBs
// (hello's and stackvars', built by the machine's SDK) must end in a ClrscopeError or a result,
// never in a RangeError/TypeError or a hang, whatever is asked of them (ids, documents,
// sequence points of every method, local names). Runs in workers under fuzz-harness.ts.
import * as fs from "node:fs";
import fc from "fast-check";
import { ClrscopeError } from "../../src/errors.js";
import { PortablePdb } from "../../src/metadata/portable-pdb.js";
import { readMetadataRoot } from "../../src/metadata/metadata.js";
import { buildDotnetTarget, hasDotnet } from "../support/dotnet-fixtures.js";
import { expectOnlyTypedErrors, FUZZ_RUNS, fuzzSeed, fuzzSuite, mutated, noteInput, type FuzzProperties } from "../support/fuzz-harness.js";

const SEED = fuzzSeed(0x9db_5eed);
/** Methods exercised per input (a PDB of a small app has a few dozen). */
const MAX_METHODS = 256;

function pdbs(): Uint8Array[] {
  return ["hello", "stackvars"].map((t) => new Uint8Array(fs.readFileSync(buildDotnetTarget(t).replace(/\.dll$/, ".pdb"))));
}

/** Offsets of the root, stream headers and the #Pdb / #~ headers, where damage matters most. */
function hotOffsets(bytes: Uint8Array): number[] {
  const out = [0, 12, 16];
  const { streams } = readMetadataRoot(bytes, "pdb");
  for (const s of streams) for (let i = 0; i < 40; i += 4) out.push(s.offset + i);
  return out;
}

function exercise(bytes: Uint8Array): void {
  noteInput(bytes);
  const soft = <R>(f: () => R): R | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  };
  const pdb = new PortablePdb(bytes, "fuzz.pdb");
  void pdb.guid;
  for (let rid = 1; rid <= Math.min(pdb.methodCount, MAX_METHODS); rid++) {
    const points = soft(() => pdb.sequencePoints(rid)) ?? [];
    for (const p of points.slice(0, 8)) soft(() => pdb.documentName(p.document));
    soft(() => pdb.sourceLine(rid, 1 << 20));
    soft(() => pdb.localNames(rid, points[0]?.ilOffset ?? 0));
  }
}

// Without an SDK there are no PDBs to mutate: the suite is empty (the other PDB tests say why they skip).
const properties: FuzzProperties = hasDotnet()
  ? {
      "portable PDB: mutations of real PDBs": () => {
        const bases = pdbs();
        const hot = [...new Set(bases.flatMap(hotOffsets))];
        fc.assert(fc.property(mutated(bases, hot), (bytes) => void expectOnlyTypedErrors(() => exercise(bytes))), { seed: SEED, numRuns: FUZZ_RUNS });
      },
      "portable PDB: truncations of real PDBs": () => {
        const bases = pdbs();
        fc.assert(
          fc.property(fc.constantFrom(...bases), fc.nat(), (b, n) => void expectOnlyTypedErrors(() => exercise(b.subarray(0, n % (b.length + 1))))),
          { seed: SEED + 1, numRuns: FUZZ_RUNS },
        );
      },
    }
  : {};

fuzzSuite("portable PDB fuzz", import.meta.url, properties);
