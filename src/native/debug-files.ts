// Finding separate debug files the way gdb does: by GNU build-id under
// <dir>/.build-id/xx/yyyy.debug, then by .gnu_debuglink name next to the file, in its .debug/
// folder and under the global debug directory. A candidate is used only if its build-id matches.
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ElfFile } from "./elf-file.js";
import { rethrowIfBug } from "../errors.js";

export const DEFAULT_DEBUG_DIRS = ["/usr/lib/debug"];

export interface DebugFileQuery {
  buildId?: string;
  /** The module's path as mapped in the process. */
  path: string;
  /** .gnu_debuglink name, when the module file is readable. */
  debugLink?: string;
}

export function debugFileCandidates(q: DebugFileQuery, dirs: string[]): string[] {
  const out: string[] = [];
  if (q.buildId && q.buildId.length > 2) {
    for (const d of dirs) out.push(join(d, ".build-id", q.buildId.slice(0, 2), `${q.buildId.slice(2)}.debug`));
  }
  const name = basename(q.path);
  for (const d of dirs) out.push(join(d, name), join(d, `${name}.debug`));
  if (q.debugLink) {
    const dir = dirname(q.path);
    out.push(join(dir, q.debugLink), join(dir, ".debug", q.debugLink));
    for (const d of dirs) out.push(join(d, dir, q.debugLink), join(d, q.debugLink));
  }
  return out;
}

/** The first candidate whose build-id equals the module's (when the module has one). */
export function findDebugFile(q: DebugFileQuery, dirs: string[]): ElfFile | undefined {
  for (const candidate of debugFileCandidates(q, dirs)) {
    if (candidate === q.path || !existsSync(candidate)) continue;
    let f: ElfFile;
    try {
      f = new ElfFile(candidate);
    } catch (e) {
      rethrowIfBug(e);
      continue;
    }
    if (q.buildId === undefined || f.buildId === q.buildId) return f;
    f.close();
  }
  return undefined;
}
