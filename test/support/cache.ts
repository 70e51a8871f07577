// Content-addressed build cache for test artefacts (compiled fixtures, dumps), outside the clone
// ($CLRSCOPE_TEST_CACHE, else $XDG_CACHE_HOME/clrscope-tests, else ~/.cache/clrscope-tests), so
// that every clone and worktree on this machine, CI's fresh clone included, reuses them. A directory is valid only once its `.complete` marker exists, so
// an interrupted build is never mistaken for a good one. `node --test` runs test files in
// parallel processes, so building is guarded by a lock file: two files asking for the same
// fixture build it once.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root: this file compiles to <root>/dist/test/support/cache.js. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Where cached test artefacts live (outside the clone; see the header). */
export const cacheRoot = process.env.CLRSCOPE_TEST_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "clrscope-tests");

/** Blocks the thread without spinning (tests are synchronous by design). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Exclusive lock by O_EXCL file creation; a lock whose owner died is taken over. */
function withLock<T>(lock: string, fn: () => T): T {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(lock, "utf8"));
      } catch {
        continue; // released between our two calls
      }
      // An empty file means the owner is between create and write: wait, don't steal.
      if (owner > 0 && !isAlive(owner)) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`cache lock ${lock} held by ${owner} for 10 min`);
      else sleepSync(50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Returns <cacheRoot>/<kind>/<hash of inputs>, building it with `build(dir)` first unless an
 * earlier build completed. `inputs` must cover everything the result depends on (sources,
 * flags, tool versions): the key is all there is.
 */
export function cachedDir(kind: string, inputs: (string | Buffer)[], build: (dir: string) => void): string {
  const hash = createHash("sha256");
  for (const input of inputs) {
    // Length-prefix each input so ["ab","c"] and ["a","bc"] differ.
    const bytes = typeof input === "string" ? Buffer.from(input) : input;
    hash.update(`${bytes.length}:`).update(bytes);
  }
  const dir = join(cacheRoot, kind, hash.digest("hex").slice(0, 16));
  const complete = join(dir, ".complete");
  if (existsSync(complete)) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  return withLock(`${dir}.lock`, () => {
    if (existsSync(complete)) return dir; // another process built it while we waited
    rmSync(dir, { recursive: true, force: true }); // leftovers of an interrupted build
    mkdirSync(dir);
    build(dir);
    writeFileSync(complete, "");
    return dir;
  });
}
