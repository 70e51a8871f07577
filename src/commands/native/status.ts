// `status`: what the dump is (printed on open): process, pid, signal, thread count and whether a
// .NET runtime (libcoreclr.so) is in it, with its version.
import { runtimeProductVersion } from "../../runtime/product-version.js";
import { defineCommand, hexAddress } from "../command.js";
import { describeUnreadableRuntime, type NativeProcess } from "../../native/process.js";
import { warn } from "../../warnings.js";

export interface StatusResult {
  file: string;
  process: string;
  pid: number | null;
  commandLine: string | null;
  signal: { number: number; name: string } | null;
  threads: number;
  modules: number;
  runtime: { path: string; version: string | null } | null;
  /** libcoreclr.so listed in NT_FILE but unreadable here (cut or damaged dump): the mappings the dump lacks. */
  runtimeUnreadable?: { path: string; missing: { start: string; end: string }[] };
  warnings: string[];
}

export const status = defineCommand<StatusResult>({
  names: ["status", "process status"],
  summary: "Summarize the dump: process, signal, threads, .NET runtime",
  usage: "status",
  run(session) {
    const p = session.process;
    const rt = p.runtime;
    return {
      file: p.core.source.name,
      process: p.name,
      pid: p.pid ?? null,
      commandLine: p.core.process?.args || null,
      signal: p.signal ?? null,
      threads: p.threads.length,
      modules: p.modules.modules.length,
      runtime: rt ? { path: rt.path, version: runtimeProductVersion(p) ?? null } : null,
      warnings: p.core.warnings,
      ...unreadableRuntime(p),
    };
  },
  render(r) {
    const lines = [`Core file '${r.file}' (x86_64): process '${r.process}'${r.pid !== null ? ` pid ${r.pid}` : ""}, ${r.threads} threads, ${r.modules} native modules`];
    if (r.commandLine) lines.push(`  command line: ${r.commandLine}`);
    if (r.signal) lines.push(`  signal: ${r.signal.name} (${r.signal.number})`);
    if (r.runtime) lines.push(`  .NET runtime: libcoreclr.so ${r.runtime.version ?? "(version unknown)"} (${r.runtime.path})`);
    else if (r.runtimeUnreadable) lines.push(`  .NET runtime: ${r.runtimeUnreadable.path} is loaded but unreadable here (see the warning)`);
    else lines.push("  .NET runtime: none (no libcoreclr.so loaded)");
    return lines.join("\n");
  },
});

function unreadableRuntime(p: NativeProcess): Pick<StatusResult, "runtimeUnreadable"> {
  const u = p.unreadableRuntime;
  if (!u) return {};
  warn(describeUnreadableRuntime(u));
  return { runtimeUnreadable: { path: u.path, missing: u.missing.map((m) => ({ start: hexAddress(m.start), end: hexAddress(m.end) })) } };
}
