// The portable PDB reader (src/metadata/portable-pdb.ts) against System.Reflection.Metadata
// (test/targets/pdb-oracle) on the PDBs of real builds: the PDB id, every method's sequence
// points with their documents, and the local variable names of every local scope.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { PortablePdb } from "../../src/metadata/portable-pdb.js";
import { cachedDir } from "../support/cache.js";
import { buildDotnetTarget, dotnetEnv, hasDotnet } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

interface OracleOutput {
  guid: string;
  methods: { rid: number; sequencePoints: { ilOffset: number; document: string; startLine: number; startColumn: number; endLine: number; endColumn: number; hidden: boolean }[] }[];
  scopes: { method: number; start: number; length: number; variables: { index: number; name: string; attributes: number }[] }[];
}

function runPdbOracle(pdb: string): OracleOutput {
  const oracle = buildDotnetTarget("pdb-oracle");
  const buildHash = path.basename(path.dirname(path.dirname(oracle)));
  const dir = cachedDir("pdb-oracle", [buildHash, fs.readFileSync(pdb), path.resolve(pdb)], (out) => {
    const r = spawnSync("dotnet", [oracle, pdb, path.join(out, "oracle.json")], { env: dotnetEnv(), encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
    if (r.status !== 0) throw new Error(`pdb oracle on ${pdb} exited with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  });
  return JSON.parse(fs.readFileSync(path.join(dir, "oracle.json"), "utf8")) as OracleOutput;
}

describe("portable PDB reader vs System.Reflection.Metadata", { skip, timeout: 900_000 }, () => {
  for (const target of ["hello", "stackvars", "metadata-oracle"]) {
    test(`${target}.pdb: id, sequence points, local scopes`, () => {
      const pdbPath = buildDotnetTarget(target).replace(/\.dll$/, ".pdb");
      const oracle = runPdbOracle(pdbPath);
      const pdb = new PortablePdb(new Uint8Array(fs.readFileSync(pdbPath)), pdbPath);
      assert.equal(pdb.guid, oracle.guid);
      const withPoints = new Map(oracle.methods.map((m) => [m.rid, m]));
      assert.ok(withPoints.size >= 5, `${target}: only ${withPoints.size} methods with sequence points`);
      for (let rid = 1; rid <= pdb.methodCount; rid++) {
        const expected = withPoints.get(rid)?.sequencePoints ?? [];
        const got = pdb.sequencePoints(rid).map((p) => ({
          ilOffset: p.ilOffset, document: pdb.documentName(p.document), startLine: p.startLine, startColumn: p.startColumn, endLine: p.endLine, endColumn: p.endColumn, hidden: p.hidden,
        }));
        assert.deepEqual(got, expected, `${target} method ${rid}`);
      }
      assert.ok(oracle.scopes.some((s) => s.variables.length > 0), `${target}: no named locals to compare`);
      for (const s of oracle.scopes) {
        // Names live at the scope's start: every scope of the method covering that offset, in table order.
        const expected = new Map<number, string>();
        for (const o of oracle.scopes) if (o.method === s.method && s.start >= o.start && s.start < o.start + o.length) for (const v of o.variables) expected.set(v.index, v.name);
        const got = new Map([...pdb.localNames(s.method, s.start)].map(([i, v]) => [i, v.name]));
        assert.deepEqual(got, expected, `${target} method ${s.method} at IL ${s.start}`);
      }
    });
  }
});
