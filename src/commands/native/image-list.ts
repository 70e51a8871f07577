// `image list [-v]` (lldb): loaded native modules with build-id, load address and path; with
// -v also where clrscope found the file's pages and its symbols.
import { defineCommand, hexAddress, hexPadded, parseArgs } from "../command.js";

export interface ImageListResult {
  images: {
    index: number;
    name: string;
    path: string;
    base: string;
    end: string;
    buildId: string | null;
    /** How the file on disk relates to the dump: verified, trusted, matched (PE), mismatch, missing, unverifiable, memory-only. */
    file: string;
    foundBy: string[];
    symbols?: { source: string; from: string | null; count: number };
  }[];
  /** With -v: every mapped file (NT_FILE), including non-ELF ones such as managed assemblies. */
  mappedFiles?: { path: string; resolvedPath: string | null; file: string; reason: string | null }[];
}

export const imageList = defineCommand<ImageListResult>({
  names: ["image list"],
  summary: "List native modules (ELF images) of the process",
  usage: "image list [-v]",
  run(session, args) {
    const verbose = parseArgs(args, [], ["-v"]).switches.has("-v");
    const modules = session.process.modules;
    const mappedFiles = verbose
      ? session.process.mappedFiles.describe().map((f) => ({ path: f.path, resolvedPath: f.resolvedPath ?? null, file: f.status, reason: f.reason ?? null }))
      : undefined;
    return {
      images: modules.modules.map((m, index) => {
        const symbols = verbose ? modules.symbols(m) : undefined;
        return {
          index, name: m.name, path: m.path, base: hexAddress(m.base), end: hexAddress(m.end), buildId: m.buildId ?? null,
          file: m.fileStatus, foundBy: m.foundBy,
          ...(symbols ? { symbols: { source: symbols.source, from: symbols.from ?? null, count: symbols.table.count } } : {}),
        };
      }),
      ...(mappedFiles ? { mappedFiles } : {}),
    };
  },
  render(r) {
    const images = r.images
      .map((m) => {
        const line = `[${String(m.index).padStart(3)}] ${(m.buildId ?? "").toUpperCase().padEnd(40)} ${hexPadded(parseInt(m.base, 16))} ${m.path}`;
        if (!m.symbols) return line;
        const syms = m.symbols.source === "none" ? "no symbols" : `${m.symbols.count} symbols from ${m.symbols.source}${m.symbols.from ? ` (${m.symbols.from})` : ""}`;
        return `${line}\n      file: ${m.file}; found by: ${m.foundBy.join(", ")}; ${syms}`;
      })
      .join("\n");
    if (!r.mappedFiles) return images;
    const files = r.mappedFiles.map((f) => {
      const from = f.resolvedPath && f.resolvedPath !== f.path && f.reason === null ? ` (read from ${f.resolvedPath})` : "";
      return `  ${f.file.padEnd(12)} ${f.path}${from}${f.reason !== null ? ` (${f.reason})` : ""}`;
    });
    return `${images}\n\nMapped files (pages the dump lacks are read from files verified by their headers, or for PE files without one by size and sections):\n${files.join("\n")}`;
  },
});
