// How test/support/sos-oracle.ts splits dotnet-dump's piped-stdin transcript into one answer per
// command, on transcripts shaped as dotnet-dump 10.0.750501 prints them: an answer paired with the
// wrong command would make every SOS comparison meaningless.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSosTranscript } from "../support/sos-oracle.js";

const BANNER = "Loading core dump: /x/core ...\nReady to process analysis commands. Type 'help' ...\nType 'quit' or 'exit' to exit the session.\n<END_COMMAND_OUTPUT>\n";

test("each command's lines, up to its marker; an error marker marks it failed", () => {
  const stdout = `${BANNER}> clrthreads -bogus\nUnknown option: -bogus\n<END_COMMAND_ERROR>\n> eeversion\n10.0.1226.42308\n\nWorkstation mode \n<END_COMMAND_OUTPUT>\n> exit\n`;
  assert.deepEqual(parseSosTranscript(stdout, ["clrthreads -bogus", "eeversion"]), {
    answers: [
      { command: "clrthreads -bogus", failed: true, lines: ["Unknown option: -bogus"] },
      { command: "eeversion", failed: false, lines: ["10.0.1226.42308", "", "Workstation mode "] },
    ],
  });
});

test("output with no final newline: the marker shares its last line", () => {
  const stdout = `${BANNER}> pstacks\n==> 9 threads<END_COMMAND_OUTPUT>\n`;
  assert.deepEqual(parseSosTranscript(stdout, ["pstacks"]).answers, [{ command: "pstacks", failed: false, lines: ["==> 9 threads"] }]);
});

test("a transcript cut inside a command (dotnet-dump died): the finished answers and the cut one's lines", () => {
  const stdout = `${BANNER}> clrthreads\nThreadCount: 1\n<END_COMMAND_OUTPUT>\n> pstacks\n____\n`;
  assert.deepEqual(parseSosTranscript(stdout, ["clrthreads", "pstacks", "dumpdomain"]), {
    answers: [{ command: "clrthreads", failed: false, lines: ["ThreadCount: 1"] }],
    unfinished: ["____"],
  });
  // Cut before the next echo: nothing unfinished (the command never started).
  assert.deepEqual(parseSosTranscript(`${BANNER}> clrthreads\n<END_COMMAND_OUTPUT>\n`, ["clrthreads", "pstacks"]), {
    answers: [{ command: "clrthreads", failed: false, lines: [] }],
  });
});

test("an echo out of step with the commands asked for, or no marker at all, throws", () => {
  assert.throws(() => parseSosTranscript(`${BANNER}> dumpdomain\n<END_COMMAND_OUTPUT>\n`, ["clrthreads"]), /expected "> clrthreads"/);
  assert.throws(() => parseSosTranscript("Loading core dump: /x/core ...\nsegfault\n", ["clrthreads"]), /no command marker/);
});
