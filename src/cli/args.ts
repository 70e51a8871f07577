// Shared by the subcommands' argument parsers.
import { ClrscopeError, ExitCode } from "../errors.js";

/** The command line itself is wrong (exit 2). */
export class UsageError extends ClrscopeError {
  constructor(message: string) {
    super("usage", message, ExitCode.usage);
  }
}

/** Walks argv: `next()` gives the following argument as the current option's value, or throws. */
export function forEachArg(argv: string[], visit: (arg: string, value: () => string) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    visit(a, () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    });
  }
}
