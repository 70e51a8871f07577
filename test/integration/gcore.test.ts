// gdb's `gcore` of a live .NET process leaves out file-backed pages the process never wrote: the
// mapped assemblies' code, IL and metadata. clrscope serves them from the files on disk when they
// can be shown to be the mapped ones (PE headers equal the dump's copy; without one, the file's
// size and section table fit every mapping of it), and warns when they cannot be.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";
import { runCli, runCliJson } from "../support/cli.js";
import { dotnetDump, gcoreDump, hasDotnet } from "../support/dotnet-fixtures.js";
import { renameInNotes } from "../support/dump-patches.js";
import { AddressSpace } from "../../src/dump/address-space.js";
import { openCoreDump } from "../../src/native/process.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";
const alteredCli = join(repoRoot, "dist", "test", "support", "altered-cli.js");
const work = mkdtempSync(join(tmpdir(), "clrscope-gcore-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Parked methods named by `clrstack -all` and by `bt all`. */
function namedParkedMethods(core: string, parked: string[], extra: string[] = [], script?: string): { clrstack: string[]; bt: string[]; warnings: string[] } {
  const r = script
    ? runCli([extra[0]!, "analyze", core, ...extra.slice(1), "--json", "-c", "clrstack -all", "-c", "bt all"], { script, timeout: 300_000 })
    : runCliJson(core, ["clrstack -all", "bt all"], extra);
  const docs = "docs" in r ? r.docs : r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  const text = (cmd: string) => JSON.stringify(docs.find((d: any) => d.command === cmd)?.result ?? null);
  const warnings = docs.flatMap((d: any) => d.warnings ?? d.result?.warnings ?? []) as string[];
  return {
    clrstack: parked.filter((m) => text("clrstack -all").includes(`${m}(`)),
    bt: parked.filter((m) => text("bt all").includes(m)),
    warnings: [...warnings, ...("stderr" in r && r.stderr.trim() !== "" ? [r.stderr] : [])],
  };
}

describe("gcore dumps of a .NET process", { skip, timeout: 900_000 }, () => {
  test("clrstack -all and bt all name the parked managed frames, as on the createdump full dump", () => {
    const g = gcoreDump("hello");
    const full = dotnetDump("hello", "full");
    const parked = [...new Set(g.truth.threads.map((t) => t.parkedIn))];
    const onFull = namedParkedMethods(full.core, parked);
    assert.deepEqual(onFull.clrstack, parked, "the full dump names every parked method");
    const onGcore = namedParkedMethods(g.core, parked);
    assert.deepEqual(onGcore.clrstack, parked);
    assert.deepEqual(onGcore.bt, parked);
    // ReadyToRun code (CoreLib's Thread.Sleep, System.Net.Sockets' Interop.Sys.Read) is in no
    // segment of the dump: the unwinder must still take it for code, not scan past it.
    assert.deepEqual(onGcore.warnings, [], "no frame is guessed");
    const files = runCliJson(g.core, ["image list -v"]).docs.find((d) => d.command === "image list -v")!.result.mappedFiles as { path: string; file: string }[];
    assert.equal(files.find((f) => f.path === g.dll)?.file, "matched", "hello.dll stands in by its size and sections");
    assert.equal(files.find((f) => basename(f.path) === "System.Private.CoreLib.dll")?.file, "matched");
  });

  test("a hello.dll whose size does not fit the mapping is refused with a warning", () => {
    const g = gcoreDump("hello");
    const parked = [...new Set(g.truth.threads.map((t) => t.parkedIn))];
    // The mapped path renamed to one that does not exist, so only the copy in --symbols can serve it.
    const renamed = join(dirname(g.dll), "hellX.dll");
    const alterations = join(work, "rename-hello.json");
    writeFileSync(alterations, JSON.stringify({ patches: renameInNotes(g.core, g.dll, renamed) }));
    const good = join(work, "good");
    const bad = join(work, "bad");
    for (const d of [good, bad]) rmSync(d, { recursive: true, force: true });
    for (const d of [good, bad]) mkdirSync(d);
    copyFileSync(g.dll, join(good, "hellX.dll"));
    writeFileSync(join(bad, "hellX.dll"), Buffer.concat([readFileSync(g.dll), Buffer.alloc(8192)]));

    const control = namedParkedMethods(g.core, parked, [alterations, "--symbols", good], alteredCli);
    assert.deepEqual(control.clrstack, parked, "an exact copy serves the renamed file");
    const refused = namedParkedMethods(g.core, parked, [alterations, "--symbols", bad], alteredCli);
    assert.deepEqual(refused.clrstack, [], "no parked method is named from a file that does not fit");
    assert.ok(refused.warnings.some((w) => w.includes("hellX.dll") && w.includes("does not fit its mapping")), refused.warnings.join("\n"));
  });

  test("a System.Private.CoreLib.dll whose PE timestamp differs from the dump's headers is refused with a warning", () => {
    // The heap dump keeps CoreLib's PE headers but not all of its pages.
    const h = dotnetDump("hello", "heap");
    const p = openCoreDump(h.core);
    const dumpOnly = new AddressSpace(p.core.source, p.core.segments);
    let absent: { address: number; path: string; fileOffset: number } | undefined;
    for (const m of p.core.files.filter((f) => basename(f.path) === "System.Private.CoreLib.dll")) {
      for (let a = m.start; a < m.end && !absent; a += 4096) if (dumpOnly.tryRead(a, 1) === undefined) absent = { address: a, path: m.path, fileOffset: m.fileOffset + a - m.start };
    }
    p.close();
    assert.ok(absent, "the heap dump lacks a page of CoreLib");
    const renamed = join(dirname(absent.path), "System.Private.CoreLiX.dll");
    const alterations = join(work, "rename-corelib.json");
    writeFileSync(alterations, JSON.stringify({ patches: renameInNotes(h.core, absent.path, renamed) }));
    const bytes = readFileSync(absent.path);
    const read = (dir: string) => {
      const r = runCli([alterations, "analyze", h.core, "--symbols", dir, "--json", "-c", `memory read -c 16 0x${absent!.address.toString(16)}`], { script: alteredCli, timeout: 300_000 });
      return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { result?: { bytes: string }; error?: unknown; warnings?: string[] };
    };
    const good = join(work, "stamp-good");
    const bad = join(work, "stamp-bad");
    for (const d of [good, bad]) mkdirSync(d);
    copyFileSync(absent.path, join(good, "System.Private.CoreLiX.dll"));
    const control = read(good);
    assert.equal(control.result?.bytes, bytes.subarray(absent.fileOffset, absent.fileOffset + 16).toString("hex"), "an exact copy serves the page");
    const stamp = bytes.readUInt32LE(60) + 8;
    bytes.writeUInt32LE((bytes.readUInt32LE(stamp) + 1) >>> 0, stamp);
    writeFileSync(join(bad, "System.Private.CoreLiX.dll"), bytes);
    const refused = read(bad);
    assert.equal(refused.result, undefined, "no bytes from a file whose timestamp differs");
    assert.ok(refused.warnings?.some((w) => /System\.Private\.CoreLiX\.dll differs from the dump's copy of its headers: PE timestamp 0x[0-9a-f]+/.test(w)), JSON.stringify(refused));
  });
});
