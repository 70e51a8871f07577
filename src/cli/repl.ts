// The interactive prompt. The main thread reads lines (readline: history, tab completion) and
// writes output; the session worker (session-worker.ts) owns the dump and runs one command at a
// time. Ctrl-C during a command sets the shared cancellation flag, which the command's loops
// check; at the prompt it clears the line, as in gdb and lldb. Ctrl-D (end of input) ends the
// session with exit 0 once the commands already read have run.
//
// A command that does not stop within CANCEL_NOTICE_MS is waited for, since stopping at a check
// keeps the session's caches; a loop with no check would hold the session forever, so a second
// Ctrl-C after the notice terminates the worker (terminate() stops even a busy loop) and reopens
// the dump on the same thread: the caches are lost, the open costs only headers and notes.
//
// The prompt and echo go to stderr, and only when stdin and stderr are a terminal: piped
// commands with --json give clean JSON Lines on stdout.
import { createInterface, type Interface } from "node:readline";
import { Worker } from "node:worker_threads";
import type { Command } from "../commands/command.js";
import { commandNames, EXIT_COMMANDS, findCommand, optionsOf } from "../commands/registry.js";
import { CommandError, ExitCode } from "../errors.js";
import { MAX_HISTORY_LINES } from "../limits.js";
import { History } from "./history.js";
import { reportFatal, writeErrorLine, writeStdout } from "./output.js";
import type { SessionOptions } from "./session.js";
import { SESSION_WORKER_URL, type FromSessionWorker, type SessionWorkerData, type ToSessionWorker } from "./session-worker.js";

/** How long a cancelled command may take to stop before the user is told that it has not. */
const CANCEL_NOTICE_MS = 2000;

const EXIT_WORDS = new Set<string>(EXIT_COMMANDS);

/**
 * readline's completer: [candidates, the end of `line` they replace]. After a command's name
 * (`clrstack -a`), the word being typed completes to that command's options; before, the line
 * completes to command names (several words: `thread s` -> `thread select`).
 */
export function complete(line: string): [string[], string] {
  const typed = line.trimStart();
  const wordStart = typed.search(/\S*$/);
  const word = typed.slice(wordStart);
  const command = commandBefore(typed.slice(0, wordStart));
  if (command) return [word === "" || word.startsWith("-") ? optionsOf(command).filter((o) => o.startsWith(word)) : [], word];
  return [commandNames().filter((n) => n.startsWith(typed.toLowerCase())), typed];
}

/** The command named by the words before the one being typed, if they name one. */
function commandBefore(words: string): Command<unknown> | undefined {
  if (words.trim() === "") return undefined;
  try {
    return findCommand(words).command;
  } catch (e) {
    if (e instanceof CommandError) return undefined; // not a command (yet): complete names
    throw e;
  }
}

/** Runs the interactive session over `options.dump`; resolves with the exit code. */
export function runRepl(options: SessionOptions): Promise<number> {
  return new Promise((resolve) => new Repl(options, resolve));
}

class Repl {
  private readonly terminal = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  private readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  private worker!: Worker;
  private rl?: Interface;
  /** The thread selected in the session, as of the last command that finished. */
  private currentThread?: number;
  /** Lines read but not yet run (piped input arrives faster than commands run). */
  private readonly queue: string[] = [];
  private running = false;
  private inputEnded = false;
  /** Input closed by `exit` or by the end of the session, not by Ctrl-D. */
  private closedByUs = false;
  private finished = false;
  private cancelNotice?: NodeJS.Timeout;
  private cancelNoticeShown = false;

  constructor(
    private readonly options: SessionOptions,
    private readonly resolve: (exitCode: number) => void,
  ) {
    this.startWorker();
  }

  /** Starts the session worker: it opens the dump (reopens it quietly when `reopenAt` is given). */
  private startWorker(reopenAt?: number): void {
    const data: SessionWorkerData = { kind: "clrscope-session", options: this.options, cancel: this.cancel, reopenAt };
    const worker = new Worker(SESSION_WORKER_URL, { workerData: data });
    worker.on("message", (m: FromSessionWorker) => this.fromWorker(m));
    worker.on("error", (e) => this.finish(reportFatal(e, this.options.debug)));
    worker.on("exit", () => {
      if (!this.finished) {
        writeErrorLine("internal error: the session ended unexpectedly (please report it; --debug shows details)");
        this.finish(ExitCode.internal);
      }
    });
    this.worker = worker;
  }

  /** Second Ctrl-C after the notice: stop the worker wherever it is and reopen the dump. */
  private abandonCommand(): void {
    this.worker.removeAllListeners();
    void this.worker.terminate();
    this.commandEnded();
    writeErrorLine(`abandoned the command; reopening ${this.options.dump}`);
    this.running = true; // until the new worker has opened the dump
    this.startWorker(this.currentThread ?? 1);
  }

  private commandEnded(): void {
    this.running = false;
    clearTimeout(this.cancelNotice);
    this.cancelNotice = undefined;
    this.cancelNoticeShown = false;
  }

  private fromWorker(m: FromSessionWorker): void {
    try {
      switch (m.kind) {
        case "stdout":
          writeStdout(m.text);
          break;
        case "stderr":
          process.stderr.write(m.text);
          break;
        case "opened":
          if (this.rl) {
            this.commandEnded(); // reopened after an abandoned command
            this.next();
          } else this.startReading();
          break;
        case "open-failed":
          this.finish(m.exitCode);
          break;
        case "done":
          this.currentThread = m.currentThread;
          this.commandEnded();
          this.next();
          break;
      }
    } catch (e) {
      this.finish(reportFatal(e, this.options.debug)); // stdout broke
    }
  }

  private startReading(): void {
    const history = this.terminal ? new History(undefined, (message) => writeErrorLine(message)) : undefined;
    const rl = createInterface({
      input: process.stdin,
      output: this.terminal ? process.stderr : undefined,
      terminal: this.terminal,
      prompt: "> ",
      history: history?.load() ?? [],
      historySize: MAX_HISTORY_LINES,
      completer: complete,
    });
    this.rl = rl;
    rl.on("line", (line) => {
      const text = line.trim();
      history?.add(text);
      if (EXIT_WORDS.has(text)) {
        this.closedByUs = true;
        rl.close();
        return;
      }
      this.queue.push(text);
      this.next();
    });
    rl.on("SIGINT", () => this.interrupt());
    rl.on("close", () => {
      this.inputEnded = true;
      if (this.terminal && !this.closedByUs) process.stderr.write("\n"); // Ctrl-D: leave the shell's prompt on a line of its own
      this.next();
    });
    rl.prompt();
  }

  /** Sends the next queued line to the worker, or prompts, or ends when input has ended. */
  private next(): void {
    if (this.running || this.finished) return;
    const line = this.queue.shift();
    if (line === undefined) {
      if (this.inputEnded) this.finish(ExitCode.ok);
      else this.rl?.prompt();
      return;
    }
    this.running = true;
    Atomics.store(this.cancel, 0, 0);
    this.worker.postMessage({ kind: "run", line } satisfies ToSessionWorker);
  }

  /** Ctrl-C (terminal only: readline sees it as a key in raw mode). */
  private interrupt(): void {
    const rl = this.rl!;
    if (this.running) {
      if (this.cancelNoticeShown) {
        this.abandonCommand();
        return;
      }
      Atomics.store(this.cancel, 0, 1);
      this.queue.length = 0; // lines typed ahead were meant to follow the command that is being abandoned
      this.cancelNotice ??= setTimeout(() => {
        this.cancelNoticeShown = true;
        writeErrorLine("the command has not stopped yet; waiting for it (Ctrl-C again abandons it and reopens the dump)");
      }, CANCEL_NOTICE_MS);
      return;
    }
    // At the prompt: abandon the line being typed and prompt again.
    rl.write(null, { ctrl: true, name: "e" });
    process.stderr.write("^C\n");
    rl.write(null, { ctrl: true, name: "u" });
    rl.prompt();
  }

  private finish(exitCode: number): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.cancelNotice);
    this.closedByUs = true;
    this.rl?.close();
    this.worker.postMessage({ kind: "close" } satisfies ToSessionWorker);
    this.worker.unref();
    this.resolve(exitCode);
  }
}
