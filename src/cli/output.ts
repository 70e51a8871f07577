// Writing results: SOS/lldb-style text or one JSON document per command (JSON Lines).
import { ClrscopeError } from "../errors.js";
import type { Command } from "../commands/command.js";
import { escapeForTerminal } from "./terminal-text.js";

export type OutputMode = "text" | "json";

/** Text mode: each warning is a `warning: ...` line after the output it qualifies. */
function warningLines(warnings: readonly string[]): string {
  return warnings.map((w) => `warning: ${w}\n`).join("");
}

/** JSON documents carry `warnings` only when there are some. */
function withWarningsField(doc: object, warnings: readonly string[]): object {
  return warnings.length > 0 ? { ...doc, warnings } : doc;
}

export function writeResult(mode: OutputMode, line: string, command: Command<unknown>, result: unknown, warnings: readonly string[] = []): void {
  if (mode === "json") process.stdout.write(JSON.stringify(withWarningsField({ command: line, result }, warnings)) + "\n");
  else {
    const text = command.render(result);
    process.stdout.write(escapeForTerminal((text.length > 0 ? text + "\n" : "") + warningLines(warnings)));
  }
}

export function writeCommandError(mode: OutputMode, line: string, error: ClrscopeError, warnings: readonly string[] = []): void {
  if (mode === "json") process.stdout.write(JSON.stringify(withWarningsField({ command: line, error: { code: error.code, message: error.message } }, warnings)) + "\n");
  else process.stderr.write(escapeForTerminal(warningLines(warnings) + `clrscope: ${error.message}\n`));
}

/** An unexpected exception: a bug. One line unless --debug asks for the stack. */
export function describeInternalError(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return `internal error: ${e.stack}`;
  return `internal error: ${e instanceof Error ? e.message : String(e)} (please report it; --debug shows details)`;
}
