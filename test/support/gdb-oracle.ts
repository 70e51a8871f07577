// gdb as an independent oracle for native stacks: `thread apply all bt` on a core, parsed into
// threads and frames. The parsed result is cached as JSON beside the core (cached cores are
// content-addressed, and the cache records which exe/core it describes).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface GdbFrame {
  index: number;
  /** null when gdb prints no address: frame 0 at the start of a line, or an inlined frame. */
  pc: number | null;
  /** Function name, "??" when unknown, or "<signal handler called>" for a signal frame. */
  fn: string;
}
export interface GdbThread {
  tid: number;
  frames: GdbFrame[];
  /** gdb's "Backtrace stopped: ..." reason, when it printed one. */
  stopped?: string;
}

const HEADER = /^Thread \d+ \(.*?(?:LWP|process) (\d+)\)/;
const FRAME = /^#(\d+)\s+(?:(0x[0-9a-fA-F]+) in )?(.*)$/;
const STOPPED = /^Backtrace stopped: (.*)$/;

/** Parses `thread apply all bt` output. Lines that are neither headers nor frames (banners,
 * "[New LWP n]", source lines, warnings) are ignored. */
export function parseGdbBacktraces(text: string): GdbThread[] {
  const threads: GdbThread[] = [];
  let current: GdbThread | undefined;
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header) {
      current = { tid: Number(header[1]), frames: [] };
      threads.push(current);
      continue;
    }
    if (!current) continue;
    const frame = FRAME.exec(line);
    if (frame) {
      const rest = frame[3]!;
      // "<signal handler called>" (and gdb's other <...> pseudo-frames) have no argument list;
      // otherwise the name ends where " (args)" begins.
      const fn = rest.startsWith("<") ? rest.slice(0, rest.indexOf(">") + 1) : rest.split(" (")[0]!;
      const pc = frame[2] === undefined ? null : Number.parseInt(frame[2], 16);
      current.frames.push({ index: Number(frame[1]), pc, fn });
      continue;
    }
    const stopped = STOPPED.exec(line);
    if (stopped) current.stopped = stopped[1]!;
  }
  return threads;
}

/** Bumped when the parser or the gdb command changes, to ignore older caches. */
const ORACLE_VERSION = 1;

/**
 * gdb's backtraces of every thread in `core` (cached beside the core). `initArgs` are extra gdb
 * arguments given before the files load, e.g. ["-iex", "set debug-file-directory DIR"]; each
 * set of them has its own cache file.
 */
export function gdbBacktraces(exe: string, core: string, initArgs: string[] = []): GdbThread[] {
  const st = statSync(core);
  const key = { version: ORACLE_VERSION, exe, core, size: st.size, mtimeMs: st.mtimeMs, ...(initArgs.length > 0 ? { initArgs } : {}) };
  const variant = initArgs.length > 0 ? `-${createHash("sha256").update(JSON.stringify(initArgs)).digest("hex").slice(0, 12)}` : "";
  const cacheFile = join(dirname(core), `${basename(core)}.gdb-bt${variant}.json`);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as { key: typeof key; threads: GdbThread[] };
    if (JSON.stringify(cached.key) === JSON.stringify(key)) return cached.threads;
  } catch {
    // no usable cache
  }
  const text = execFileSync(
    "gdb",
    ["-batch", "-nx", ...initArgs, "-ex", "set pagination off", "-ex", "set width 0", "-ex", "thread apply all bt", exe, core],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"], // stderr: warnings about missing debug info etc.
      maxBuffer: 256 << 20,
      timeout: 300_000,
      env: { ...process.env, DEBUGINFOD_URLS: "" }, // never go to the network for symbols
    },
  );
  const threads = parseGdbBacktraces(text);
  if (threads.length === 0) throw new Error(`gdb printed no threads for ${core}:\n${text}`);
  // Raw text kept for humans; JSON written via rename so a parallel reader never sees half.
  writeFileSync(`${cacheFile}.txt`, text);
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ key, threads }));
  renameSync(tmp, cacheFile);
  return threads;
}

const REGISTER_LINE = /^([a-z0-9_]+)\s+(0x[0-9a-fA-F]+)\s/;

/**
 * gdb's register values per thread (LWP id -> register name -> value), from
 * `thread apply all info registers NAMES...` on `core` (cached beside the core).
 */
export function gdbRegisters(exe: string, core: string, names: string[]): Map<number, Record<string, bigint>> {
  const st = statSync(core);
  const key = { version: ORACLE_VERSION, exe, core, size: st.size, mtimeMs: st.mtimeMs, names };
  const cacheFile = join(dirname(core), `${basename(core)}.gdb-regs-${createHash("sha256").update(JSON.stringify(names)).digest("hex").slice(0, 12)}.json`);
  let text: string | undefined;
  try {
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as { key: typeof key; text: string };
    if (JSON.stringify(cached.key) === JSON.stringify(key)) text = cached.text;
  } catch {
    // no usable cache
  }
  if (text === undefined) {
    text = execFileSync(
      "gdb",
      ["-batch", "-nx", "-ex", "set pagination off", "-ex", "set width 0", "-ex", `thread apply all info registers ${names.join(" ")}`, exe, core],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, timeout: 300_000, env: { ...process.env, DEBUGINFOD_URLS: "" } },
    );
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, text }));
    renameSync(tmp, cacheFile);
  }
  const out = new Map<number, Record<string, bigint>>();
  let current: Record<string, bigint> | undefined;
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) out.set(Number(h[1]), (current = {}));
    const r = REGISTER_LINE.exec(line);
    if (r && current) current[r[1]!] = BigInt(r[2]!);
  }
  if (out.size === 0) throw new Error(`gdb printed no threads for ${core}:\n${text}`);
  return out;
}
