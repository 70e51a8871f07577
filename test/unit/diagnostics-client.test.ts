// The diagnostics IPC client against a fake server on a Unix socket (test/support/fake-diagnostics.ts,
// which builds messages independently of src/collect/ipc-protocol.ts) and a fake /proc tree:
// command fallbacks, socket discovery, and replies that are cut short, oversized, malformed,
// errors, or never come. Every case must end in bounded time with a typed error.
import assert from "node:assert/strict";
import { chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { exchange } from "../../src/collect/diagnostics-client.js";
import { collectDump } from "../../src/collect/collect-dump.js";
import { findDiagnosticsSocket } from "../../src/collect/discovery.js";
import { encodeMessage } from "../../src/collect/ipc-protocol.js";
import { describeDotnetProcess, listDotnetProcesses, queryProcessInfo, scanDotnetProcesses } from "../../src/collect/process-list.js";
import { ClrscopeError, CollectInterruptedError, DiagnosticsIpcError, OutputPathError, ProcessAccessError, RuntimeReportedError } from "../../src/errors.js";
import { writeCore, sampleCoreSpec } from "../support/elf-writer.js";
import {
  errorReply,
  message,
  okReply,
  parseDumpRequest,
  processInfo2Payload,
  processInfo3Payload,
  startFakeServer,
  u32,
  writeFakeProc,
  type FakeProcessInfo,
  type FakeServer,
} from "../support/fake-diagnostics.js";

const UNKNOWN_COMMAND = 0x80131385;
const ME = process.getuid!();
const INFO: FakeProcessInfo = {
  pid: 4242,
  cookie: Buffer.from("00112233445566778899aabbccddeeff", "hex"),
  commandLine: "/usr/share/dotnet/dotnet /app/app.dll --flag",
  os: "Linux",
  arch: "x64",
  entryAssembly: "app",
  clrVersion: "10.0.12+abcdef",
  rid: "linux-x64",
};

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), "clrscope-fakeipc-"));
});
after(() => rmSync(root, { recursive: true, force: true }));

let serial = 0;
/** A fresh socket path in the temp dir. */
const sock = () => join(root, `s${++serial}.sock`);

/** Runs `fn` against a server answering every request with `respond`; closes it afterwards. */
async function withServer<T>(respond: Parameters<typeof startFakeServer>[1], fn: (s: FakeServer) => Promise<T>): Promise<T> {
  const server = await startFakeServer(sock(), respond);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** `promise` rejects with an instance of `cls` whose code is `code`, within `maxMs`. */
async function rejectsWith(promise: Promise<unknown>, cls: new (...a: never[]) => ClrscopeError, code: string, maxMs: number): Promise<ClrscopeError> {
  const t0 = Date.now();
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  const ms = Date.now() - t0;
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  assert.equal((error as ClrscopeError).code, code, (error as Error).message);
  assert.ok(ms < maxMs, `took ${ms} ms (limit ${maxMs})`);
  assert.doesNotMatch((error as Error).message, /\n/, "one line");
  return error as ClrscopeError;
}

describe("process info over a fake server", () => {
  test("ProcessInfo3: every field", async () => {
    await withServer((req, s) => s.end(req.commandSet === 4 && req.commandId === 8 ? okReply(processInfo3Payload(INFO)) : errorReply(UNKNOWN_COMMAND)), async (server) => {
      const info = await queryProcessInfo(server.socketPath);
      assert.deepEqual(info, {
        infoVersion: 3,
        pid: 4242,
        runtimeCookie: "33221100-5544-7766-8899-aabbccddeeff",
        commandLine: INFO.commandLine,
        os: "Linux",
        arch: "x64",
        managedEntrypointAssemblyName: "app",
        clrProductVersion: "10.0.12+abcdef",
        runtimeIdentifier: "linux-x64",
      });
      assert.deepEqual(server.requests.map((r) => [r.commandSet, r.commandId, r.payload.length]), [[4, 8, 0]]);
    });
  });

  test("an older runtime: ProcessInfo3 unknown, falls back to ProcessInfo2", async () => {
    await withServer((req, s) => s.end(req.commandId === 4 ? okReply(processInfo2Payload(INFO)) : errorReply(UNKNOWN_COMMAND)), async (server) => {
      const info = await queryProcessInfo(server.socketPath);
      assert.equal(info.infoVersion, 2);
      assert.equal(info.clrProductVersion, "10.0.12+abcdef");
      assert.equal(info.runtimeIdentifier, null);
      assert.deepEqual(server.requests.map((r) => r.commandId), [8, 4]);
    });
  });

  test("an error other than unknown-command is the runtime's error, not a fallback", async () => {
    await withServer((_req, s) => s.end(errorReply(0x80131371)), async (server) => {
      const e = await rejectsWith(queryProcessInfo(server.socketPath), RuntimeReportedError, "runtime-error", 2000);
      assert.match(e.message, /0x80131371 \(DS_IPC_E_RUNTIME_UNINITIALIZED\)/);
      assert.equal(server.requests.length, 1);
    });
  });
});

describe("broken replies end in typed errors, in bounded time", () => {
  const request = encodeMessage(4, 8);
  // name, what the server does, the error class, its code, what its message must say
  const cases: [string, (s: import("node:net").Socket) => void, new (...a: never[]) => ClrscopeError, string, RegExp][] = [
    ["cut inside the header", (s) => s.end(okReply().subarray(0, 11)), DiagnosticsIpcError, "protocol-error", /closed the connection after 11 of 20 bytes/],
    ["cut inside the payload", (s) => s.end(okReply(processInfo3Payload(INFO)).subarray(0, 60)), DiagnosticsIpcError, "protocol-error", /after 60 of \d+ bytes/],
    ["size field larger than what is sent, then closed", (s) => s.end(message(0xff, 0, u32(0), 0xffff)), DiagnosticsIpcError, "protocol-error", /after 24 of 65535 bytes/],
    ["size field smaller than the header", (s) => s.end(message(0xff, 0, u32(0), 7)), DiagnosticsIpcError, "protocol-error", /size field 7 is smaller than the header/],
    ["wrong magic", (s) => s.end(Buffer.concat([Buffer.from("DOTNET_IPC_V2\0"), okReply(processInfo3Payload(INFO)).subarray(14)])), DiagnosticsIpcError, "protocol-error", /wrong magic "DOTNET_IPC_V2/],
    ["closed without a reply", (s) => s.end(), DiagnosticsIpcError, "protocol-error", /without a reply/],
    ["destroyed after part of the header", (s) => s.write(okReply().subarray(0, 5), () => s.destroy()), DiagnosticsIpcError, "protocol-error", /after 5 of 20 bytes/],
    ["not the server command set", (s) => s.end(message(0x04, 0, u32(0))), DiagnosticsIpcError, "protocol-error", /command set 0x4/],
    ["unknown server response id", (s) => s.end(message(0xff, 0x42, u32(0))), DiagnosticsIpcError, "protocol-error", /unknown server response 0x42/],
    ["OK with a payload cut inside a string", (s) => s.end(okReply(Buffer.concat([u32(1), processInfo3Payload(INFO).subarray(4, 40)]))), DiagnosticsIpcError, "protocol-error", /command line of \d+ UTF-16 units/],
    ["OK with a string length near 2^32", (s) => s.end(okReply(Buffer.concat([u32(1), Buffer.alloc(24), u32(0xffffffff), Buffer.alloc(8)]))), DiagnosticsIpcError, "protocol-error", /4294967295 UTF-16 units, only 8 bytes left/],
    ["error reply with no HRESULT", (s) => s.end(message(0xff, 0xff)), DiagnosticsIpcError, "protocol-error", /HRESULT needs 4 bytes, 0 left/],
  ];
  for (const [name, respond, cls, code, says] of cases) {
    test(name, async () => {
      await withServer((_req, s) => respond(s), async (server) => {
        const e = await rejectsWith(queryProcessInfo(server.socketPath, { timeoutMs: 3000 }), cls, code, 2500);
        assert.match(e.message, says);
      });
    });
  }

  test("a server that never answers: the configured timeout, not a hang", async () => {
    await withServer(() => {}, async (server) => {
      const t0 = Date.now();
      const e = await rejectsWith(exchange(server.socketPath, request, { timeoutMs: 300 }), DiagnosticsIpcError, "timeout", 2000);
      assert.ok(Date.now() - t0 >= 290, "waited the timeout");
      assert.match(e.message, /did not answer within 0\.3 s \(no reply\)/);
    });
  });

  test("an oversized size field on an open connection: timeout, with how much arrived", async () => {
    await withServer((_req, s) => s.write(message(0xff, 0, u32(0), 0xffff)), async (server) => {
      const e = await rejectsWith(exchange(server.socketPath, request, { timeoutMs: 300 }), DiagnosticsIpcError, "timeout", 2000);
      assert.match(e.message, /24 of 65535 bytes/);
    });
  });

  test("extra bytes after the reply are not part of it", async () => {
    await withServer((_req, s) => s.end(Buffer.concat([okReply(processInfo3Payload(INFO)), Buffer.from("trailing junk")])), async (server) => {
      assert.equal((await queryProcessInfo(server.socketPath)).commandLine, INFO.commandLine);
    });
  });

  test("a socket file nobody listens on, and a missing socket: not-dotnet", async () => {
    const stale = sock();
    writeFileSync(stale, "");
    await rejectsWith(exchange(stale, request), ProcessAccessError, "not-dotnet", 2000);
    await rejectsWith(exchange(join(root, "missing.sock"), request), ProcessAccessError, "not-dotnet", 2000);
  });

  test("property: random reply bytes never hang or crash the client", async () => {
    let reply = Buffer.alloc(0);
    const server = await startFakeServer(sock(), (_req, s) => s.end(reply));
    try {
      const valid = [okReply(processInfo3Payload(INFO)), errorReply(UNKNOWN_COMMAND), errorReply(0x80004005, "boom"), okReply(processInfo2Payload(INFO))];
      const mutate = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.option(fc.nat())).map(([base, edits, cut]) => {
        const b = Buffer.from(base);
        for (const [at, v] of edits) b[at % b.length] = v;
        return cut === null ? b : b.subarray(0, cut % (b.length + 1));
      });
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), mutate), async (bytes) => {
          reply = bytes;
          const t0 = Date.now();
          try {
            await queryProcessInfo(server.socketPath, { timeoutMs: 1000 });
          } catch (e) {
            if (!(e instanceof ClrscopeError)) throw new Error(`untyped error ${e instanceof Error ? e.stack : String(e)} for ${bytes.toString("hex")}`);
          }
          assert.ok(Date.now() - t0 < 3500, `slow for ${bytes.toString("hex")}`);
        }),
        { numRuns: 150, seed: 4242 },
      );
    } finally {
      await server.close();
    }
  });
});

describe("dump command and socket discovery over a fake /proc", () => {
  /** A fake proc root holding one process `pid` whose socket lives in `tmp`. */
  function fakeTarget(pid: number, opts: { nsPid?: number; threads?: number } = {}) {
    const base = mkdtempSync(join(root, "p"));
    const procRoot = join(base, "proc");
    const fsRoot = join(base, "r"); // the target's "/" when namespaced
    const tmp = join(base, "tmp");
    mkdirSync(join(fsRoot, "tmp"), { recursive: true });
    mkdirSync(tmp);
    const namespaced = opts.nsPid !== undefined;
    writeFakeProc(procRoot, {
      pid,
      uid: ME, // the owner of the sockets this test creates
      startTime: 777,
      threads: opts.threads ?? 3,
      nsPids: namespaced ? [pid, opts.nsPid!] : [pid],
      environ: namespaced ? { TMPDIR: "/tmp" } : { HOME: "/root", TMPDIR: tmp },
      root: namespaced ? fsRoot : undefined,
    });
    const socketDir = namespaced ? join(fsRoot, "tmp") : tmp;
    const socketPath = join(socketDir, `dotnet-diagnostic-${opts.nsPid ?? pid}-777-socket`);
    return { procRoot, tmp, fsRoot, socketDir, socketPath };
  }

  test("TMPDIR from /proc/PID/environ; only the runtime's exact name, a socket of the process's owner; the others ignored, saying why", async () => {
    const t = fakeTarget(4242);
    const stale = join(t.socketDir, "dotnet-diagnostic-4242-111-socket"); // an earlier process 4242
    writeFileSync(stale, "");
    writeFileSync(join(t.socketDir, "dotnet-diagnostic-4243-777-socket"), ""); // another pid: not a candidate
    // Newer than the runtime's socket, which the reference client would prefer.
    const dsrouter = join(t.socketDir, "dotnet-diagnostic-dsrouter-4242-777-socket");
    const server = await startFakeServer(t.socketPath, () => {});
    const other = await startFakeServer(dsrouter, () => {});
    try {
      utimesSync(dsrouter, new Date(3_000_000_000_000), new Date(3_000_000_000_000));
      const loc = findDiagnosticsSocket(4242, { procRoot: t.procRoot });
      assert.equal(loc.socketPath, t.socketPath);
      assert.equal(loc.targetTmpDir, t.tmp);
      assert.equal(loc.namespaced, false);
      assert.equal(loc.facts.uid, ME);
      assert.deepEqual(
        loc.ignored.map((i) => [i.path, i.reason]).sort(),
        [[dsrouter, "not-runtime-name"], [stale, "stale"]].sort(),
      );
      assert.match(loc.ignored.find((i) => i.reason === "stale")!.message, /started at tick 111; this one started at tick 777/);
    } finally {
      await server.close();
      await other.close();
    }
  });

  test("the exact name but a symlink, a regular file, another owner: not used; not-dotnet names each and why", async () => {
    const t = fakeTarget(4250);
    const real = await startFakeServer(join(t.socketDir, "elsewhere.sock"), () => {});
    try {
      symlinkSync(real.socketPath, t.socketPath);
      const expectIgnored = (reason: string, says: RegExp) =>
        assert.throws(
          () => findDiagnosticsSocket(4250, { procRoot: t.procRoot }),
          (e: ProcessAccessError) => e.code === "not-dotnet" && e.message.includes(`ignored: ${t.socketPath} (`) && says.test(e.message) && !e.message.includes("\n"),
          reason,
        );
      expectIgnored("symlink", /a symbolic link/);
      rmSync(t.socketPath);
      writeFileSync(t.socketPath, "");
      expectIgnored("not-a-socket", /\(not a socket\)/);
      rmSync(t.socketPath);
      const planted = await startFakeServer(t.socketPath, () => {});
      try {
        chownSync(t.socketPath, 65534, 65534);
        expectIgnored("wrong-owner", new RegExp(`owned by uid 65534, not by the process's uid ${ME}`));
        assert.equal(planted.requests.length, 0, "never connected to");
      } finally {
        await planted.close();
      }
    } finally {
      await real.close();
    }
  });

  test("no such pid, a zombie: no-such-process", () => {
    const t = fakeTarget(4400);
    assert.throws(() => findDiagnosticsSocket(4401, { procRoot: t.procRoot }), (e: ProcessAccessError) => e.code === "no-such-process");
    writeFakeProc(t.procRoot, { pid: 4402, startTime: 1, state: "Z" });
    assert.throws(() => findDiagnosticsSocket(4402, { procRoot: t.procRoot }), (e: ProcessAccessError) => e.code === "no-such-process" && /exited/.test(e.message));
  });

  test("collect: GenerateCoreDump3 unknown, falls back to 2; absolute path, type and flags sent; the core is checked", async () => {
    const t = fakeTarget(4242, { threads: 5 });
    const spec = sampleCoreSpec(); // an ELF core of pid 4242
    const server = await startFakeServer(t.socketPath, (req, s) => {
      if (req.commandSet !== 1 || req.commandId === 3) return s.end(errorReply(UNKNOWN_COMMAND));
      const { path } = parseDumpRequest(req.payload);
      writeFileSync(path, writeCore(spec));
      s.end(okReply());
    });
    try {
      const out = join(t.tmp, "out.core");
      const progress: number[] = [];
      const r = await collectDump(4242, { procRoot: t.procRoot, output: out, type: "heap", diag: true, crashReport: true, onProgress: (p) => progress.push(p.elapsedMs), progressIntervalMs: 5 });
      assert.deepEqual(server.requests.map((q) => [q.commandSet, q.commandId]), [[1, 3], [1, 2]]);
      assert.deepEqual(parseDumpRequest(server.requests[1]!.payload), { path: out, type: 2, flags: 0x01 | 0x04 });
      assert.equal(r.command, 2);
      assert.equal(r.path, out);
      assert.equal(r.threads, spec.threads.length);
      assert.equal(r.liveThreads, 5);
      assert.equal(r.crashReport, null, "the fake wrote no crash report");
    } finally {
      await server.close();
    }
  });

  test("collect in another PID namespace: the inner pid's socket under /proc/PID/root; the dump read through it", async () => {
    const t = fakeTarget(4242, { nsPid: 7 });
    const spec = sampleCoreSpec();
    spec.prpsinfo!.pid = 7; // the dump records the pid the process sees
    const server = await startFakeServer(t.socketPath, (req, s) => {
      const { path } = parseDumpRequest(req.payload);
      writeFileSync(join(t.fsRoot, path), writeCore(spec)); // the target writes in its own root
      s.end(okReply());
    });
    try {
      const r = await collectDump(4242, { procRoot: t.procRoot, output: "/tmp/inner.core", type: "mini" });
      assert.equal(parseDumpRequest(server.requests[0]!.payload).path, "/tmp/inner.core");
      assert.equal(parseDumpRequest(server.requests[0]!.payload).type, 1);
      assert.equal(r.localPath, join(t.procRoot, "4242", "root", "tmp", "inner.core"));
      assert.equal(r.command, 3);
    } finally {
      await server.close();
    }
  });

  test("collect: the runtime's HRESULT and message; a file that is no core; crash report refused by an old runtime", async () => {
    const t = fakeTarget(4242);
    let mode = "error";
    const server = await startFakeServer(t.socketPath, (req, s) => {
      if (mode === "error") return s.end(errorReply(0x80004005, "Problem launching createdump (may not have execute permissions): execve(/x/createdump) FAILED Permission denied (13)"));
      if (mode === "old") return s.end(errorReply(UNKNOWN_COMMAND));
      writeFileSync(parseDumpRequest(req.payload).path, "not a core");
      s.end(okReply());
    });
    try {
      const out = join(t.tmp, "e.core");
      const e = await rejectsWith(collectDump(4242, { procRoot: t.procRoot, output: out }), RuntimeReportedError, "runtime-error", 2000);
      assert.match(e.message, /HRESULT 0x80004005 \(DS_IPC_E_FAIL\): Problem launching createdump .*Permission denied \(13\)$/);
      assert.equal((e as RuntimeReportedError).hresult, 0x80004005);
      mode = "garbage";
      await rejectsWith(collectDump(4242, { procRoot: t.procRoot, output: out }), DiagnosticsIpcError, "dump-invalid", 2000);
      rmSync(out);
      mode = "old";
      await rejectsWith(collectDump(4242, { procRoot: t.procRoot, output: out, crashReport: true }), DiagnosticsIpcError, "unsupported-by-runtime", 2000);
    } finally {
      await server.close();
    }
  });

  test("collect refuses an existing output path and a symlink (its target untouched); --overwrite replaces a regular file", async () => {
    const t = fakeTarget(4260);
    const spec = sampleCoreSpec();
    spec.prpsinfo!.pid = 4260;
    const server = await startFakeServer(t.socketPath, (req, s) => {
      writeFileSync(parseDumpRequest(req.payload).path, writeCore(spec));
      s.end(okReply());
    });
    try {
      const out = join(t.tmp, "exists.core");
      writeFileSync(out, "mine");
      const e = await rejectsWith(collectDump(4260, { procRoot: t.procRoot, output: out }), OutputPathError, "output-exists", 2000);
      assert.match(e.message, /exists: choose another -o path, or --overwrite/);
      assert.equal(readFileSync(out, "utf8"), "mine");

      const victim = join(t.tmp, "victim");
      writeFileSync(victim, "victim");
      const link = join(t.tmp, "link.core");
      symlinkSync(victim, link);
      for (const overwrite of [false, true]) {
        const l = await rejectsWith(collectDump(4260, { procRoot: t.procRoot, output: link, overwrite }), OutputPathError, "output-exists", 2000);
        assert.match(l.message, /is a symbolic link/);
      }
      const dangling = join(t.tmp, "dangling.core");
      symlinkSync(join(t.tmp, "not-yet"), dangling);
      await rejectsWith(collectDump(4260, { procRoot: t.procRoot, output: dangling }), OutputPathError, "output-exists", 2000);
      assert.ok(!existsSync(join(t.tmp, "not-yet")), "a dangling symlink's target is not created");
      assert.equal(readFileSync(victim, "utf8"), "victim");
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal(server.requests.length, 0, "nothing was asked of the runtime");

      const hardlinked = join(t.tmp, "hardlinked");
      linkSync(out, hardlinked); // replacing must not write into another name of the same file
      const r = await collectDump(4260, { procRoot: t.procRoot, output: out, overwrite: true });
      assert.equal(r.threads, spec.threads.length);
      assert.equal(readFileSync(hardlinked, "utf8"), "mine");
      const dir = join(t.tmp, "a-dir");
      mkdirSync(dir);
      const d = await rejectsWith(collectDump(4260, { procRoot: t.procRoot, output: dir, overwrite: true }), OutputPathError, "output-exists", 2000);
      assert.match(d.message, /not a regular file/);
    } finally {
      await server.close();
    }
  });

  test("a runtime that never answers and writes nothing, or stops writing: given up after the stall timeout, not the overall one", async () => {
    const t = fakeTarget(4270);
    let grow = false;
    const server = await startFakeServer(t.socketPath, (req) => {
      if (!grow) return;
      const path = parseDumpRequest(req.payload).path;
      writeFileSync(path, "x".repeat(100));
    });
    try {
      const t0 = Date.now();
      const e = await rejectsWith(collectDump(4270, { procRoot: t.procRoot, output: join(t.tmp, "never.core"), stallTimeoutMs: 400, progressIntervalMs: 50 }), DiagnosticsIpcError, "timeout", 3000);
      assert.ok(Date.now() - t0 >= 390, "waited the stall timeout");
      assert.match(e.message, /no answer, and it has not created .*never\.core for 0\.4 s; its runtime may still be writing there/);
      grow = true;
      const s = await rejectsWith(collectDump(4270, { procRoot: t.procRoot, output: join(t.tmp, "stalled.core"), stallTimeoutMs: 400, progressIntervalMs: 50 }), DiagnosticsIpcError, "timeout", 3000);
      assert.match(s.message, /has not added to \(100 bytes so far\) .*stalled\.core for 0\.4 s/);
    } finally {
      await server.close();
    }
  });

  test("an interrupt while the runtime writes: CollectInterruptedError naming where it may still be writing", async () => {
    const t = fakeTarget(4280);
    const interrupt = new AbortController();
    const server = await startFakeServer(t.socketPath, () => interrupt.abort());
    try {
      const out = join(t.tmp, "int.core");
      const e = await rejectsWith(collectDump(4280, { procRoot: t.procRoot, output: out, signal: interrupt.signal }), CollectInterruptedError, "interrupted", 2000);
      assert.equal(e.message, `interrupted: the runtime of process 4280 (dotnet) may still be writing the dump to ${out}`);
      assert.equal(e.exitCode, 130);
    } finally {
      await server.close();
    }
  });

  test("a result that is not a regular file of the process's owner at the path asked: dump-invalid, and not opened", async () => {
    const t = fakeTarget(4242);
    const spec = sampleCoreSpec();
    const elsewhere = join(t.tmp, "elsewhere.core");
    writeFileSync(elsewhere, writeCore(spec)); // a valid core of pid 4242
    let mode = "";
    const server = await startFakeServer(t.socketPath, (req, s) => {
      const path = parseDumpRequest(req.payload).path;
      if (mode === "symlink") symlinkSync(elsewhere, path);
      if (mode === "owner") {
        writeFileSync(path, writeCore(spec));
        chownSync(path, 65534, 65534);
      }
      if (mode === "directory") mkdirSync(path);
      s.end(okReply());
    });
    try {
      const cases: [string, RegExp][] = [
        ["nothing", /reported success but \S+nothing\.core does not exist/],
        ["symlink", /reported success but \S+symlink\.core is a symbolic link: not used/],
        ["owner", new RegExp(`owner\\.core is owned by uid 65534, not by the process's uid ${ME}: not used`)],
        ["directory", /directory\.core is not a regular file: not used/],
      ];
      for (const [m, says] of cases) {
        mode = m;
        const e = await rejectsWith(collectDump(4242, { procRoot: t.procRoot, output: join(t.tmp, `${m}.core`) }), DiagnosticsIpcError, "dump-invalid", 2000);
        assert.match(e.message, says, m);
      }
    } finally {
      await server.close();
    }
  });

  test("ps: a process whose only socket is another user's (dsrouter's name) is listed as ignored, not as a .NET process", async () => {
    const t = fakeTarget(4242);
    writeFakeProc(t.procRoot, { pid: 5002, uid: ME, startTime: 12, environ: { TMPDIR: t.tmp } });
    const planted = await startFakeServer(join(t.tmp, "dotnet-diagnostic-dsrouter-5002-12-socket"), (_req, s) => s.end(okReply(processInfo3Payload(INFO))));
    const server = await startFakeServer(t.socketPath, (_req, s) => s.end(okReply(processInfo3Payload(INFO))));
    try {
      const { processes, ignored } = await scanDotnetProcesses({ procRoot: t.procRoot, timeoutMs: 300 });
      assert.deepEqual(processes.map((r) => r.pid), [4242]);
      assert.deepEqual(ignored.map((p) => [p.pid, p.ignoredSockets.map((s) => s.reason)]), [[5002, ["not-runtime-name"]]]);
      assert.equal(planted.requests.length, 0);
    } finally {
      await server.close();
      await planted.close();
    }
  });

  test("ps asks every runtime at once with a short default timeout: twelve silent ones cost about a second, rows in pid order", async () => {
    const t = fakeTarget(4242);
    const server = await startFakeServer(t.socketPath, (_req, s) => s.end(okReply(processInfo3Payload(INFO))));
    // More silent runtimes than a batch of eight, with pids listed out of order in the directory.
    const silentPids = [6011, 6003, 6010, 6001, 6007, 6002, 6009, 6004, 6012, 6006, 6005, 6008];
    const silent: FakeServer[] = [];
    try {
      for (const pid of silentPids) {
        writeFakeProc(t.procRoot, { pid, uid: ME, startTime: 20, environ: { TMPDIR: t.tmp } });
        silent.push(await startFakeServer(join(t.tmp, `dotnet-diagnostic-${pid}-20-socket`), () => {}));
      }
      const t0 = Date.now();
      const rows = await listDotnetProcesses({ procRoot: t.procRoot }); // the default timeout, as `clrscope ps` uses it
      const ms = Date.now() - t0;
      assert.ok(ms < 2500, `took ${ms} ms for ${silentPids.length} silent runtimes`);
      assert.deepEqual(rows.map((r) => r.pid), [4242, ...[...silentPids].sort((a, b) => a - b)]);
      assert.equal(rows[0]!.error, null);
      assert.equal(rows[0]!.runtimeVersion, "10.0.12");
      for (const r of rows.slice(1)) assert.equal(r.error?.code, "timeout", `pid ${r.pid}`);
      assert.deepEqual(silent.map((s) => s.requests.length), silentPids.map(() => 1), "each silent runtime was asked once");
    } finally {
      await server.close();
      await Promise.all(silent.map((s) => s.close()));
    }
  });

  test("ps over a fake /proc: the process with a socket, with its runtime's answers; a process that will not answer keeps its row with the error", async () => {
    const t = fakeTarget(4242);
    writeFakeProc(t.procRoot, { pid: 5000, startTime: 9, name: "sleep" }); // no socket
    writeFakeProc(t.procRoot, { pid: 5001, uid: ME, startTime: 10, environ: { TMPDIR: t.tmp } });
    const hung = await startFakeServer(join(t.tmp, "dotnet-diagnostic-5001-10-socket"), () => {});
    const server = await startFakeServer(t.socketPath, (_req, s) => s.end(okReply(processInfo3Payload(INFO))));
    try {
      const rows = await listDotnetProcesses({ procRoot: t.procRoot, timeoutMs: 300 });
      assert.deepEqual(rows.map((r) => r.pid), [4242, 5001]);
      assert.equal(rows[0]!.runtimeVersion, "10.0.12");
      assert.equal(rows[0]!.commandLine, INFO.commandLine);
      assert.equal(rows[1]!.error?.code, "timeout");
      assert.equal((await describeDotnetProcess(4242, { procRoot: t.procRoot })).runtimeIdentifier, "linux-x64");
    } finally {
      await server.close();
      await hung.close();
    }
  });
});


