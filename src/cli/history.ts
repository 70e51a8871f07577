// The REPL's command history (~/.clrscope_history). It is private (0600), bounded on disk and in
// what is read at start, and never follows a symbolic link: a link planted at its path (to make
// clrscope write into another file) is refused and its target left alone. Only command lines
// typed on a terminal are offered to it, and lines with control characters are not kept.
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { MAX_HISTORY_LINE_CHARS, MAX_HISTORY_LINES, MAX_HISTORY_READ_BYTES } from "../limits.js";
import { isTerminalSafe } from "./terminal-text.js";

function defaultHistoryPath(): string {
  return join(homedir(), ".clrscope_history");
}

/** A line worth keeping: a command, not a pasted blob or binary. */
function keepable(line: string): boolean {
  return line !== "" && line.length <= MAX_HISTORY_LINE_CHARS && isTerminalSafe(line) && !line.includes("\ufffd") && !line.includes("\t");
}

export class History {
  /** Oldest first. */
  private lines: string[] = [];
  /** Why the history is not used (said once, on the first save). */
  private refused?: string;
  private refusalSaid = false;

  constructor(
    readonly path: string = defaultHistoryPath(),
    /** Told once why the history is not saved. */
    private readonly say: (message: string) => void = () => {},
  ) {}

  /**
   * Reads the end of the file (at most MAX_HISTORY_READ_BYTES: a huge file costs nothing) and
   * returns its last lines, newest first, as readline wants them.
   */
  load(): string[] {
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") this.refused = `${this.path} is a symbolic link; history is not saved`;
      else if (code !== "ENOENT") this.refused = `${this.path}: cannot open (${code}); history is not saved`;
      return [];
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        this.refused = `${this.path} is not a regular file; history is not saved`;
        return [];
      }
      if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
        this.refused = `${this.path} belongs to another user; history is not saved`;
        return [];
      }
      const from = Math.max(0, st.size - MAX_HISTORY_READ_BYTES);
      const bytes = new Uint8Array(st.size - from);
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, from + done);
        if (n === 0) break;
        done += n;
      }
      const text = Buffer.from(bytes.subarray(0, done)).toString("utf8");
      const lines = text.split("\n");
      if (from > 0) lines.shift(); // cut mid-line by the bounded read
      this.lines = lines.filter(keepable).slice(-MAX_HISTORY_LINES);
      return [...this.lines].reverse();
    } finally {
      closeSync(fd);
    }
  }

  /** Records a typed command line and rewrites the file with the newest MAX_HISTORY_LINES. */
  add(line: string): void {
    if (!keepable(line)) return;
    this.lines.push(line);
    if (this.lines.length > MAX_HISTORY_LINES) this.lines.splice(0, this.lines.length - MAX_HISTORY_LINES);
    this.save();
  }

  private save(): void {
    if (this.refused === undefined) {
      const st = lstatSync(this.path, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) this.refused = `${this.path} is a symbolic link; history is not saved`;
      else if (st && !st.isFile()) this.refused = `${this.path} is not a regular file; history is not saved`;
    }
    if (this.refused === undefined) {
      try {
        this.rewrite();
      } catch (e) {
        this.refused = `${this.path}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)}); history is not saved`;
      }
    }
    if (this.refused !== undefined && !this.refusalSaid) {
      this.refusalSaid = true;
      this.say(this.refused);
    }
  }

  /**
   * Writes a new private file beside the history and renames it over: the history is replaced
   * whole (never appended through a link), and a crash leaves the old one intact.
   */
  private rewrite(): void {
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      try {
        fchmodSync(fd, 0o600); // the umask may only narrow the mode; make it exactly private
        writeSync(fd, this.lines.map((l) => l + "\n").join(""));
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (e) {
      unlinkSync(temp);
      throw e;
    }
  }
}
