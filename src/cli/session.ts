// One analyze session over an open dump: runs command lines, shared by batch (-c, on the main
// thread) and the REPL (in its session worker).
import { CancelledError } from "../cancellation.js";
import { ClrscopeError, ExitCode, OutputError, tryOrUndefined } from "../errors.js";
import { batchMayAskDac, newSession, type Session } from "../commands/command.js";
import { status } from "../commands/native/status.js";
import { findCommand, runCommand } from "../commands/registry.js";
import type { DumpAlterations } from "../dump/byte-source.js";
import type { BackendChoice } from "../runtime/model.js";
import { openCoreDump, type NativeProcess } from "../native/process.js";
import { withWarnings } from "../warnings.js";
import { describeInternalError, writeCommandError, writeErrorLine, writeResult, type OutputMode } from "./output.js";

/** What `analyze` opens and how it answers: everything but the commands to run. */
export interface SessionOptions {
  dump: string;
  mode: OutputMode;
  exe?: string;
  symbolDirs: string[];
  dac?: string;
  backend?: "auto" | "contracts" | "dac";
  debug: boolean;
  /** Tests: the dump is read through these alterations (corruption campaigns). */
  alterations?: DumpAlterations;
}

export class AnalyzeSession {
  readonly state: Session;
  failures = 0;

  constructor(
    private readonly process: NativeProcess,
    private readonly mode: OutputMode,
    private readonly debug: boolean,
    options: { dacPath?: string; backend?: BackendChoice; batch?: string[] },
  ) {
    this.state = newSession(process, { dacPath: options.dacPath, backend: options.backend });
    // Interactive sessions load the DAC while the user types; a batch only when it may need it.
    const batch = options.batch?.flatMap((line) => tryOrUndefined(() => findCommand(line)) ?? []);
    if (!batch || options.backend === "dac" || batchMayAskDac(this.state, batch)) this.state.managed.startDac();
  }

  /** Run one command line; errors are reported, counted and never thrown, but for a broken stdout (the run ends). */
  execute(line: string): void {
    const text = line.trim();
    if (text === "" || text.startsWith("#")) return;
    const warnings: string[] = [];
    try {
      const { command, result } = withWarnings(warnings, () => runCommand(this.state, text));
      writeResult(this.mode, text, command, result, warnings);
    } catch (e) {
      if (e instanceof OutputError) throw e;
      // Ctrl-C is the user's choice, not a failure of the command.
      if (!(e instanceof CancelledError)) this.failures++;
      const error = e instanceof ClrscopeError ? e : new ClrscopeError("internal", describeInternalError(e, this.debug), ExitCode.internal);
      writeCommandError(this.mode, text, error, warnings);
    }
  }

  /** Ends what the session started (the DAC host process) and closes the dump. */
  close(): void {
    this.state.managed.close();
    this.process.close();
  }
}

/**
 * Opens the dump, says what it is (warnings, then the open summary) and returns the session.
 * `reopenAt`: the REPL reopens after abandoning a command: quietly, on the thread selected then.
 */
export function openSession(options: SessionOptions, reopenAt?: number, batch?: string[]): AnalyzeSession {
  const process = openCoreDump(options.dump, { exe: options.exe, symbolDirs: options.symbolDirs, alterations: options.alterations });
  const session = new AnalyzeSession(process, options.mode, options.debug, { dacPath: options.dac, backend: options.backend, batch });
  if (reopenAt !== undefined) {
    session.state.currentThread = reopenAt;
    return session;
  }
  for (const w of process.core.warnings) writeErrorLine(`warning: ${w}`);
  try {
    const openWarnings: string[] = [];
    writeResult(options.mode, "open", status, withWarnings(openWarnings, () => status.run(session.state, [])), openWarnings);
  } catch (e) {
    session.close(); // the DAC host and the dump, which nobody else would close
    throw e;
  }
  return session;
}
