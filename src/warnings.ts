// Warnings of the command in flight: a sanity check that fails deep in a reader (a count that
// contradicts a list, a loop, an unreadable global) says so here, and the command's output
// carries it ("warning: ..." lines in text, `warnings` in JSON) instead of a silent wrong answer.
// Readers that cache what they read must re-warn when a later command uses the damaged part.

let current: string[] | undefined;

/** Records a warning for the command in flight (once per command; ignored when none is in flight). */
export function warn(message: string): void {
  if (current !== undefined && !current.includes(message)) current.push(message);
}

/**
 * Runs `fn` and returns its value with the warnings it raised, which are also recorded for the
 * command in flight: for callers that keep a result for later commands, which must re-warn.
 */
export function warningsOf<T>(fn: () => T): { value: T; warnings: string[] } {
  const outer = current;
  const mine: string[] = [];
  current = mine;
  try {
    return { value: fn(), warnings: mine };
  } finally {
    current = outer;
    for (const w of mine) warn(w);
  }
}

/** Runs `fn` collecting its warnings into `into` (kept when `fn` throws); nested calls share the outer list. */
export function withWarnings<T>(into: string[], fn: () => T): T {
  if (current !== undefined) return fn();
  current = into;
  try {
    return fn();
  } finally {
    current = undefined;
  }
}
