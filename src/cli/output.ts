// Writing results: SOS/lldb-style text or one JSON document per command (JSON Lines).
import { ClrscopeError, ExitCode, OutputError, type ExitCodeValue } from "../errors.js";
import type { Command } from "../commands/command.js";
import { escapeForTerminal, jsonLine } from "./terminal-text.js";

export type OutputMode = "text" | "json";

/** Where command output goes: the process's streams, or (REPL session worker) the main thread. */
export interface OutputStreams {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Writes to stdout; throws OutputError when stdout is broken. A file or device (`> /dev/full`)
 * fails inside write() and the stream records the error at once (`errored`); a pipe fails later,
 * in the stream's 'error' event (bin.ts).
 */
export function writeStdout(text: string): void {
  process.stdout.write(text);
  const failed = process.stdout.errored as NodeJS.ErrnoException | null;
  if (failed) throw new OutputError(failed);
}

const processStreams: OutputStreams = { stdout: writeStdout, stderr: (text) => void process.stderr.write(text) };
let streams: OutputStreams = processStreams;

/** Sends all further output to `to` (the REPL's session worker posts it to the main thread). */
export function redirectOutput(to: OutputStreams): void {
  streams = to;
}

/** One line on stderr, escaped for the terminal. */
export function writeErrorLine(text: string): void {
  streams.stderr(escapeForTerminal(`clrscope: ${text}\n`));
}

/** Text mode: each warning is a `warning: ...` line after the output it qualifies. */
function warningLines(warnings: readonly string[]): string {
  return warnings.map((w) => `warning: ${w}\n`).join("");
}

/** JSON documents carry `warnings` only when there are some. */
function withWarningsField(doc: object, warnings: readonly string[]): object {
  return warnings.length > 0 ? { ...doc, warnings } : doc;
}

export function writeResult(mode: OutputMode, line: string, command: Command<unknown>, result: unknown, warnings: readonly string[] = []): void {
  if (mode === "json") streams.stdout(jsonLine(withWarningsField({ command: line, result }, warnings)));
  else {
    const text = command.render(result);
    streams.stdout(escapeForTerminal((text.length > 0 ? text + "\n" : "") + warningLines(warnings)));
  }
}

export function writeCommandError(mode: OutputMode, line: string, error: ClrscopeError, warnings: readonly string[] = []): void {
  if (mode === "json") streams.stdout(jsonLine(withWarningsField({ command: line, error: { code: error.code, message: error.message } }, warnings)));
  else streams.stderr(escapeForTerminal(warningLines(warnings) + `clrscope: ${error.message}\n`));
}

/** An unexpected exception: a bug. One line unless --debug asks for the stack. */
export function describeInternalError(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return `internal error: ${e.stack}`;
  return `internal error: ${e instanceof Error ? e.message : String(e)} (please report it; --debug shows details)`;
}

// stdout's failure is seen twice, as a throw from writeStdout and as the stream's 'error' event
// on the next tick: it is reported once.
let outputFailureReported = false;

/** stdout's 'error' event (bin.ts): a pipe fails after write() returned. Ends the process. */
export function exitOnStdoutError(e: NodeJS.ErrnoException): void {
  if (outputFailureReported) return;
  process.exit(reportFatal(new OutputError(e), false));
}

/**
 * Reports an error that ends the run (one line on stderr) and gives the exit code: the error's
 * own, 70 for a bug, 0 without a word when the reader of a pipe went away (`| head`).
 */
export function reportFatal(e: unknown, debug: boolean): ExitCodeValue {
  if (e instanceof OutputError) {
    if (outputFailureReported) return e.exitCode;
    outputFailureReported = true;
    if (e.readerWentAway) return ExitCode.ok;
  }
  if (e instanceof ClrscopeError) {
    writeErrorLine(e.message);
    return e.exitCode;
  }
  writeErrorLine(describeInternalError(e, debug));
  return ExitCode.internal;
}
