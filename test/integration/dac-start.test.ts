// When a batch starts the DAC host: a batch whose commands the .NET 10 data contracts answer alone
// (clrthreads, pstacks, clrstack -n, dumpmt, name2ee, ...) starts none (a process start saved);
// a batch with a command that may ask the DAC starts it at open. Observed through a DAC named
// with --dac whose constructor leaves a marker file: it is loaded exactly when a host starts.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileVersionStamp } from "../../src/runtime/dac/dac-provenance.js";
import { runCli } from "../support/cli.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import { buildPlantedDac } from "../support/fake-dac.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

describe("the DAC host starts only for batches that may ask the DAC (.NET 10 hello)", { skip, timeout: 600_000 }, () => {
  let work: string;
  let marker: string;
  let dac: string;
  let core: string;
  let stringMt: string;

  before(() => {
    const d = dotnetDump("hello", "full");
    core = d.core;
    stringMt = d.truth.methodTables["System.String"]!;
    work = mkdtempSync(join(tmpdir(), "clrscope-dac-start-"));
    marker = join(work, "dac-was-loaded");
    dac = join(work, "libmscordaccore.so");
    const stamp = fileVersionStamp(join(dirname(d.truth.libcoreclr), "libmscordaccore.so"));
    assert.ok(stamp, "the real DAC has a version stamp");
    buildPlantedDac(dac, marker, stamp);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test("clrthreads, pstacks, clrstack -all -n, dumpmt -md, name2ee: no host, the DAC is never loaded, and they answer", () => {
    const r = runCli(["analyze", core, "--dac", dac, "-c", "clrthreads", "-c", "pstacks", "-c", "clrstack -all -n", "-c", `dumpmt -md ${stringMt}`, "-c", "name2ee *!System.String"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /==> \d+ threads with \d+ roots/);
    assert.match(r.stdout, /Name:\s+System\.String/);
    assert.equal(existsSync(marker), false, "the DAC was loaded");
  });

  test("control: clrstack -all (source lines from the DAC) starts the host, which loads the DAC", () => {
    const r = runCli(["analyze", core, "--dac", dac, "-c", "clrthreads", "-c", "clrstack -all"]);
    assert.notEqual(r.stdout, "", r.stderr);
    assert.ok(existsSync(marker), "the DAC named with --dac was loaded");
  });
});
