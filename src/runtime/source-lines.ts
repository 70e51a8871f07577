// Source lines and local names of managed code from portable PDBs: a PDB embedded in the
// module's image (debug directory entry 17: "MPDB", size, deflate data), else the one its
// CodeView record names (file name and GUID), looked for beside the module's file and in the
// --symbols directories and used only when its id matches.
import { existsSync } from "node:fs";
import { inflateRawSync } from "node:zlib";
import { basename, dirname, join } from "node:path";
import type { Memory } from "../dump/address-space.js";
import { readRegularFile } from "../dump/regular-file.js";
import { ClrscopeError, tryOrUndefined } from "../errors.js";
import { DebugType, loadedImageSource, PeImage } from "../metadata/pe.js";
import { PortablePdb, type LocalVariableName } from "../metadata/portable-pdb.js";
import { MAX_EMBEDDED_PDB } from "../limits.js";

/** "MPDB": the signature of an embedded portable PDB's debug data. */
const EMBEDDED_PDB_SIGNATURE = 0x4244504d;

export interface ManagedModuleRef {
  /** Load address of the module's PE image (0: dynamic, no image). */
  base: number;
  path: string;
}

export class SourceLines {
  private readonly pdbs = new Map<number, PortablePdb | null>();

  constructor(
    private readonly memory: Memory,
    private readonly symbolDirs: string[] = [],
  ) {}

  /** The matching portable PDB of a module, if one can be found. */
  pdb(module: ManagedModuleRef): PortablePdb | undefined {
    let pdb = this.pdbs.get(module.base);
    if (pdb === undefined) {
      pdb = this.find(module) ?? null;
      this.pdbs.set(module.base, pdb);
    }
    return pdb ?? undefined;
  }

  /** Source file and line of an IL offset in a method (MethodDef token), as SOS finds it. */
  sourceLine(module: ManagedModuleRef, methodToken: number, ilOffset: number): { file: string; line: number } | undefined {
    const pdb = this.pdb(module);
    if (!pdb || ilOffset < 0) return undefined;
    return tryOrUndefined(() => pdb.sourceLine(methodToken & 0xffffff, ilOffset));
  }

  /** Names of the method's locals live at `ilOffset`, by IL slot (empty without a PDB). */
  localNames(module: ManagedModuleRef, methodToken: number, ilOffset: number): Map<number, LocalVariableName> {
    const pdb = this.pdb(module);
    if (!pdb || ilOffset < 0) return new Map();
    try {
      return pdb.localNames(methodToken & 0xffffff, ilOffset);
    } catch (e) {
      if (e instanceof ClrscopeError) return new Map();
      throw e;
    }
  }

  private find(module: ManagedModuleRef): PortablePdb | undefined {
    if (module.base === 0) return undefined;
    const base = module.base;
    const source = loadedImageSource(this.memory, base);
    let codeView;
    try {
      const layout = PeImage.detectLayout(source, module.path);
      if (!layout) return undefined;
      const pe = new PeImage(source, layout, module.path);
      const embedded = embeddedPdb(pe, module.path);
      if (embedded) return embedded;
      codeView = pe.codeViews().find((c) => c.portable);
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
    if (!codeView) return undefined;
    const file = basename(codeView.path.replace(/\\/g, "/"));
    const candidates = [join(dirname(module.path), file), ...this.symbolDirs.map((d) => join(d, file)), codeView.path];
    for (const path of candidates) {
      if (!existsSync(path)) continue;
      try {
        const pdb = new PortablePdb(readRegularFile(path, "a portable PDB"), path);
        if (pdb.guid === codeView.guid) return pdb;
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
      }
    }
    return undefined;
  }
}

/** The portable PDB embedded in an image's debug directory, if any. */
function embeddedPdb(pe: PeImage, path: string): PortablePdb | undefined {
  const entry = pe.debugEntries().find((e) => e.type === DebugType.embeddedPortablePdb);
  if (!entry || entry.sizeOfData < 8) return undefined;
  const data = pe.debugData(entry, MAX_EMBEDDED_PDB);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const size = view.getUint32(4, true);
  if (view.getUint32(0, true) !== EMBEDDED_PDB_SIGNATURE || size > MAX_EMBEDDED_PDB) return undefined;
  let bytes: Buffer;
  try {
    bytes = inflateRawSync(data.subarray(8), { maxOutputLength: size });
  } catch {
    return undefined; // damaged deflate data: no lines rather than a failed command
  }
  return new PortablePdb(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `${path} (embedded PDB)`);
}
