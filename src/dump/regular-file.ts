// Opening a file named by the user or by a dump: only a regular file is read. A FIFO would block
// open() forever (O_NONBLOCK prevents that) and a device reads as endless or empty data, so the
// kind is checked on the open descriptor (fstat: no race with a rename) before any read.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { CannotReadError } from "../errors.js";

/** What `path` is when it is not a regular file ("a FIFO (named pipe)", ...). */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function describeOpenError(path: string, role: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return `${path}: no such file`;
    case "EACCES":
    case "EPERM":
      return `${path}: permission denied (run as the file's owner or fix its mode)`;
    case "EISDIR":
      return `${path} is a directory, not ${role}`;
    case "ENXIO": {
      // open() of a Unix socket fails so
      const st = statSync(path, { throwIfNoEntry: false });
      if (st) return `${path} is ${kindOf(st)}, not ${role}`;
      return `${path}: cannot open (${code})`;
    }
    default:
      return `${path}: cannot open (${code ?? String(e)})`;
  }
}

/**
 * Opens `path` read-only and returns its descriptor and size, or throws CannotReadError (one
 * line) when it cannot be opened or is not a regular file. `role` names what it should be
 * ("a dump file", "an executable").
 */
export function openRegularFile(path: string, role: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new CannotReadError(describeOpenError(path, role, e));
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new CannotReadError(`${path} is ${kindOf(st)}, not ${role}`);
  }
  return { fd, size: st.size };
}

/** The whole of a regular file (small files: PDBs, JSON), refusing FIFOs and devices as openRegularFile does. */
export function readRegularFile(path: string, role: string): Uint8Array {
  const { fd, size } = openRegularFile(path, role);
  try {
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Throws CannotReadError unless `path` opens as a regular file (an option that names one, e.g. --exe). */
export function requireRegularFile(path: string, role: string): void {
  closeSync(openRegularFile(path, role).fd);
}

/** Throws CannotReadError unless `path` is a directory (an option that names one, e.g. --symbols). */
export function requireDirectory(path: string, option: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new CannotReadError(`${option} ${path}: no such directory`);
  if (!st.isDirectory()) throw new CannotReadError(`${option} ${path} is ${kindOf(st)}, not a directory`);
}
