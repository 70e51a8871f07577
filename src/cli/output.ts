// Writing results: SOS/lldb-style text or one JSON document per command (JSON Lines).
import { ClrscopeError } from "../errors.js";
import type { Command } from "../commands/command.js";

export type OutputMode = "text" | "json";

export function writeResult(mode: OutputMode, line: string, command: Command<unknown>, result: unknown): void {
  if (mode === "json") process.stdout.write(JSON.stringify({ command: line, result }) + "\n");
  else {
    const text = command.render(result);
    if (text.length > 0) process.stdout.write(text + "\n");
  }
}

export function writeCommandError(mode: OutputMode, line: string, error: ClrscopeError): void {
  if (mode === "json") process.stdout.write(JSON.stringify({ command: line, error: { code: error.code, message: error.message } }) + "\n");
  else process.stderr.write(`clrscope: ${error.message}\n`);
}

/** An unexpected exception: a bug. One line unless --debug asks for the stack. */
export function describeInternalError(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return `internal error: ${e.stack}`;
  return `internal error: ${e instanceof Error ? e.message : String(e)} (please report it; --debug shows details)`;
}
