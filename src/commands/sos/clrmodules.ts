// `clrmodules` (SOS's `assemblies`/`clrmodules`, AssembliesCommand.cs): the managed modules of the
// runtime, one line per module, `{base:X16} {size:X8} {path}` ("(Dynamic)" after a dynamic one's).
// With -v, the verbose block of SOS's `modules -v` (Address, ImageSize, IsPEImage, IsManaged,
// IsFileLayout) plus the Module and Assembly addresses, the metadata location, and where the
// image's pages come from: the dump itself or the file on disk (AddressSpace.origin). `modules`
// (modules.ts) lists every image the dump maps, native ones too.
//
// JSON: { modules: ModuleRow[], totalImageSize: number } (see ModuleRow; addresses "0x...").
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { defineCommand, hexAddress, parseArgs, type Session } from "../command.js";
import { filterImages } from "./image-filter.js";
import type { ManagedModuleSummary } from "../../runtime/model.js";

const PAGE = 0x1000;

export interface ModuleRow {
  /** Position in the AppDomain's assembly list (load order). */
  index: number;
  module: string;
  assembly: string;
  path: string;
  fileName: string;
  imageBase: string;
  /** Bytes of the loaded image layout (the file size when flat, SizeOfImage when mapped). */
  imageSize: number;
  /** The image lies flat (file layout) rather than section by section. Null without an image. */
  isFileLayout: boolean | null;
  isDynamic: boolean;
  metadata: { address: string; size: number } | null;
  /** With -v: how many of the image's pages the dump holds, the file supplies, or neither. */
  pages?: { dump: number; file: number; missing: number };
}

export interface ModulesResult {
  modules: ModuleRow[];
  totalImageSize: number;
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend?: "contracts" | "dac";
}

/** The modules from the session's backend (runtime/type-source.ts chooses). */
function moduleRows(session: Session): { rows: ModuleRow[]; backend: "contracts" | "dac" } {
  const src = session.managed.typeSource();
  return { rows: src.moduleSummaries().map(moduleRow), backend: src.backend };
}

function moduleRow(m: ManagedModuleSummary): ModuleRow {
  return {
    index: m.index,
    module: hexAddress(m.address),
    assembly: hexAddress(m.assembly),
    path: m.path,
    fileName: m.fileName,
    imageBase: hexAddress(m.imageBase),
    imageSize: m.imageSize,
    isFileLayout: m.isFileLayout,
    isDynamic: m.isDynamic,
    metadata: m.metadata ? { address: hexAddress(m.metadata.address), size: m.metadata.size } : null,
  };
}

function pageOrigins(session: Session, base: number, size: number): { dump: number; file: number; missing: number } {
  const out = { dump: 0, file: 0, missing: 0 };
  const memory = session.process.memory;
  const start = Math.floor(base / PAGE) * PAGE;
  for (let a = start; a < base + size; a += PAGE) out[memory.origin(a)]++;
  return out;
}

export const clrModules = defineCommand<ModulesResult>({
  names: ["clrmodules"],
  summary: "SOS: the managed modules (image base, size, path)",
  usage: "clrmodules [-v] [-n REGEX] [-a ADDRESS]",
  run(session, args) {
    const a = parseArgs(args, ["-n", "--name", "-a", "--address"], ["-v", "--verbose"]);
    if (a.positional.length > 0) throw new CommandError(`usage: ${this.usage}`, "usage");
    const source = moduleRows(session);
    const totalImageSize = source.rows.reduce((s, r) => s + r.imageSize, 0);
    const { items: rows, address } = filterImages(source.rows, a.values, (r) => ({ path: r.path, base: parseInt(r.imageBase, 16), size: r.imageSize }));
    if (address !== undefined && rows.length === 0) throw new CommandError(`Address 0x${hexDigits(address, 16)} not found`, "not-found");
    if (a.switches.has("-v") || a.switches.has("--verbose")) {
      for (const r of rows) r.pages = pageOrigins(session, parseInt(r.imageBase, 16), r.imageSize);
    }
    return { modules: rows, totalImageSize, backend: source.backend };
  },
  render(r) {
    const out: string[] = [];
    const x16 = (h: string) => hexDigits(parseInt(h, 16), 16).toUpperCase();
    for (const m of r.modules) {
      const name = m.path || (m.isDynamic ? "Dynamic Module" : "Unknown Module");
      if (!m.pages) {
        out.push(`${x16(m.imageBase)} ${m.imageSize.toString(16).toUpperCase().padStart(8, "0")} ${m.path}${m.isDynamic ? "(Dynamic)" : ""}`);
        continue;
      }
      const p = m.pages;
      const from = [p.dump && `${p.dump} in the dump`, p.file && `${p.file} from the file on disk`, p.missing && `${p.missing} missing`].filter(Boolean).join(", ");
      out.push(
        `${m.index} ${name}`,
        `    Address:         ${x16(m.imageBase)}`,
        `    ImageSize:       ${m.imageSize.toString(16).toUpperCase().padStart(8, "0")}`,
        `    IsPEImage:       ${m.isDynamic ? "False" : "True"}`,
        `    IsManaged:       True`,
        `    IsFileLayout:    ${m.isFileLayout === null ? "<unknown>" : m.isFileLayout ? "True" : "False"}`,
        `    Module:          ${x16(m.module)}`,
        `    Assembly:        ${x16(m.assembly)}`,
        `    MetaData:        ${m.metadata ? `${x16(m.metadata.address)} (${m.metadata.size} bytes)` : "<none>"}`,
        `    Pages:           ${from || "none"}`,
      );
    }
    // SOS's clrmodules has no total line; the verbose form ends with the images' total size.
    if (r.modules.some((m) => m.pages)) out.push(`Total image size: ${r.totalImageSize}`);
    return out.join("\n");
  },
});
