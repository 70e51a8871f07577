// Bounded property tests for the diagnostics IPC reply decoders (src/collect/ipc-protocol.ts):
// random bytes and mutations of valid replies (built by test/support/fake-diagnostics.ts) must
// decode or end in a typed ClrscopeError, never a RangeError/TypeError, a huge allocation or a
// hang. The socket-level property (random replies through a real connection) is in
// diagnostics-client.test.ts.
import { decodeMessage, decodeProcessInfo, decodeServerReply } from "../../src/collect/ipc-protocol.js";
import { errorReply, okReply, processInfo2Payload, processInfo3Payload, type FakeProcessInfo } from "../support/fake-diagnostics.js";
import { fuzzBytes, fuzzSeed, fuzzSuite } from "../support/fuzz-harness.js";

const SEED = fuzzSeed(0x1bc_d1a6);

const INFO: FakeProcessInfo = {
  pid: 1234,
  cookie: Buffer.alloc(16, 7),
  commandLine: "/usr/share/dotnet/dotnet app.dll",
  os: "Linux",
  arch: "x64",
  entryAssembly: "app",
  clrVersion: "10.0.12",
  rid: "linux-x64",
};

/** Decodes a whole reply as the client does for each command it sends. */
function decodeAll(bytes: Uint8Array): void {
  const message = decodeMessage(bytes);
  const reply = decodeServerReply(message, true);
  if (reply.ok) for (const v of [1, 2, 3] as const) {
    try {
      decodeProcessInfo(reply.payload, v);
    } catch (e) {
      if (v === 3) throw e;
    }
  }
}

const SEEDS = [okReply(processInfo3Payload(INFO)), okReply(processInfo2Payload(INFO)), errorReply(0x80131385), errorReply(0x80004005, "createdump failed"), okReply()];
// The size field, the command ids, the first string lengths.
const HOT = [14, 15, 16, 17, 20, 24, 28, 52, 56];

fuzzSuite("diagnostics IPC decoders never throw untyped errors or hang (fast-check)", import.meta.url, {
  "replies: random bytes and mutated valid replies": () => fuzzBytes(SEED, decodeAll, SEEDS, { hotOffsets: HOT, maxLength: 512 }),
  "payloads: ProcessInfo decoders on arbitrary payloads": () =>
    fuzzBytes(SEED + 1, (b) => {
      const payload = Buffer.from(b.buffer, b.byteOffset, b.length);
      decodeProcessInfo(payload, 3);
    }, [processInfo3Payload(INFO), processInfo2Payload(INFO)], { hotOffsets: [0, 4, 12, 28, 32], maxLength: 512 }),
});
