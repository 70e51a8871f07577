// koffi (FFI) is an optional dependency: only the DAC backend needs it, and the core must run
// without any native addon. Loaded on first use; a missing or broken install is one reason string.
import { createRequire } from "node:module";

export type Koffi = typeof import("koffi");

let cached: { koffi?: Koffi; error?: string } | undefined;

/** koffi, or why it cannot be loaded. */
export function loadKoffi(): { koffi?: Koffi; error?: string } {
  if (!cached) {
    try {
      const mod = createRequire(import.meta.url)("koffi") as Koffi & { default?: Koffi };
      cached = { koffi: mod.default ?? mod };
    } catch (e) {
      const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
      cached = { error: `the optional dependency koffi cannot be loaded (${why}); install it with npm install koffi` };
    }
  }
  return cached;
}
