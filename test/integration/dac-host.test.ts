// The DAC host as the library sees it, on a createdump full dump of test/targets/hello (.NET 10):
// an error thrown in the host comes back as the same class with the same message and fields;
// Ctrl-C (the cancellation flag) while waiting on a DAC that never answers stops the host and
// throws CancelledError, and the next call starts a new host; a crash fails one call and the
// next starts a new host.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CancelledError, resetCancellation, useCancellationFlag } from "../../src/cancellation.js";
import { ClrscopeError } from "../../src/errors.js";
import { openCoreDump } from "../../src/native/process.js";
import { DacHost, DacHostError } from "../../src/runtime/dac/dac-host-client.js";
import { openDacRuntime } from "../../src/runtime/dac/dac-runtime.js";
import { loadKoffi } from "../../src/runtime/dac/koffi.js";
import { DacCallError } from "../../src/runtime/dac/sos-dac.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import { faultyDac } from "../support/fake-dac.js";

const skip = !hasDotnet() ? "no dotnet SDK on PATH" : loadKoffi().error ?? false;

function hostFor(core: string, dacPath: string): DacHost {
  return new DacHost({ kind: "init", dump: core, options: {}, dacPath });
}

describe("the DAC host process", { skip, timeout: 600_000 }, () => {
  test("a DAC call that fails in the host throws DacCallError here, with the DAC's call, HRESULT and message", () => {
    const d = dotnetDump("hello", "full");
    const p = openCoreDump(d.core);
    const { dac, error } = openDacRuntime(p);
    assert.ok(dac, error);
    assert.throws(
      () => dac.sos.methodTableData(0x10),
      (e: unknown) => {
        assert.ok(e instanceof DacCallError, `a DacCallError, not ${String(e)}`);
        assert.equal(e.call, "GetMethodTableData");
        assert.equal(e.code, "dac-call-failed");
        assert.match(e.message, /^the DAC's GetMethodTableData\(0x10\) failed with HRESULT 0x[0-9a-f]{8}/);
        assert.equal(e.message, new DacCallError("GetMethodTableData", e.hr, "0x10").message);
        return true;
      },
    );
    // The host still answers after a failed call.
    assert.ok(dac.threads().length > 0);
    p.close();
  });

  test("Ctrl-C while the DAC hangs: CancelledError at once, the host is stopped, the next call starts a new one", () => {
    const d = dotnetDump("hello", "full");
    const host = hostFor(d.core, faultyDac("hang-in-calls"));
    const flag = new Int32Array(new SharedArrayBuffer(4));
    useCancellationFlag(flag);
    try {
      assert.equal(host.stats.starts, 0);
      assert.ok("initMs" in host.ready(), "the hanging DAC loads (only its methods hang)");
      Atomics.store(flag, 0, 1); // as the REPL's SIGINT handler does
      const t0 = performance.now();
      assert.throws(() => host.sos.threadStoreData(), CancelledError);
      assert.ok(performance.now() - t0 < 5_000, "cancelled promptly");
      resetCancellation();
      assert.equal(host.stats.starts, 1);
      // The next need starts a new host (whose call would hang too: cancelled the same way).
      Atomics.store(flag, 0, 1);
      assert.throws(() => host.sos.threadStoreData(), CancelledError);
      assert.equal(host.stats.starts, 2, "a new host was started for the next call");
    } finally {
      resetCancellation();
      useCancellationFlag(undefined);
      host.close();
    }
  });

  test("a crash fails the call in flight with one line; the next call starts a new host", () => {
    const d = dotnetDump("hello", "full");
    const host = hostFor(d.core, faultyDac("crash-in-calls"));
    try {
      for (let i = 1; i <= 2; i++) {
        assert.throws(
          () => host.sos.methodTableData(0x1234),
          (e: unknown) => {
            assert.ok(e instanceof DacHostError && e instanceof ClrscopeError);
            assert.equal(e.code, "dac-crashed");
            assert.equal(e.message, "the DAC crashed (SIGSEGV) while answering methodTableData(0x1234); it restarts on the next command that needs it; answers from the data contracts still work");
            return true;
          },
        );
        assert.equal(host.stats.starts, i);
      }
    } finally {
      host.close();
    }
  });
});
