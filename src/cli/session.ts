// One analyze session over an open dump: runs command lines, shared by batch (-c) and the REPL.
import { ClrscopeError, ExitCode } from "../errors.js";
import { closeSessionDac, startSessionDac, type Session } from "../commands/command.js";
import { runCommand } from "../commands/registry.js";
import type { NativeProcess } from "../native/process.js";
import { withWarnings } from "../warnings.js";
import { describeInternalError, writeCommandError, writeResult, type OutputMode } from "./output.js";

export class AnalyzeSession {
  readonly state: Session;
  failures = 0;

  constructor(
    process: NativeProcess,
    private readonly mode: OutputMode,
    private readonly debug: boolean,
    dacPath?: string,
  ) {
    this.state = { process, currentThread: 1, dacPath };
    startSessionDac(this.state);
  }

  /** Ends what the session started (the DAC host process). */
  close(): void {
    closeSessionDac(this.state);
  }

  /** Run one command line; errors are reported, counted and never thrown. */
  execute(line: string): void {
    const text = line.trim();
    if (text === "" || text.startsWith("#")) return;
    const warnings: string[] = [];
    try {
      const { command, result } = withWarnings(warnings, () => runCommand(this.state, text));
      writeResult(this.mode, text, command, result, warnings);
    } catch (e) {
      this.failures++;
      const error = e instanceof ClrscopeError ? e : new ClrscopeError("internal", describeInternalError(e, this.debug), ExitCode.internal);
      writeCommandError(this.mode, text, error, warnings);
    }
  }
}
