// Running the CLI on a pseudo-terminal (through python3's pty module: test/support/pty-bridge.py),
// to test what only happens on a terminal: the REPL's prompt, Ctrl-C, Ctrl-D, history.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./cache.js";
import { cliPath } from "./cli.js";

const BRIDGE = join(repoRoot, "test", "support", "pty-bridge.py");

export const CTRL_C = "\x03";
export const CTRL_D = "\x04";

export class PtyCli {
  private readonly child: ChildProcessWithoutNullStreams;
  /** Every byte the terminal was sent (prompt, echo, stdout and stderr together). */
  raw = "";
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn("python3", [BRIDGE, process.execPath, cliPath, ...args], { env });
    this.child.stdout.setEncoding("utf8").on("data", (s: string) => (this.raw += s));
    this.child.stderr.setEncoding("utf8").on("data", (s: string) => (this.raw += s));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** What the terminal showed: the bytes without readline's cursor and erase sequences (CSI). */
  get output(): string {
    return this.raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  }

  /** Types `text` (keys; "\r" is Enter as a terminal sends it). */
  type(text: string): void {
    this.child.stdin.write(text);
  }

  /** Waits until the output after `from` matches `pattern`; fails after `timeoutMs` with what was shown. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.output.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; the terminal showed:\n${this.output.slice(from)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the bridge and the CLI (cleanup after a failure). */
  kill(): void {
    this.child.kill("SIGKILL");
  }
}
