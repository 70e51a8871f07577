// Source lines and local names of managed code from portable PDBs: the module's PE image in
// dump memory names its PDB (CodeView record: file name and GUID); the PDB is looked for beside
// the module's file and in the --symbols directories, and used only when its id matches.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Memory } from "../dump/address-space.js";
import { ClrscopeError } from "../errors.js";
import { PeImage } from "../metadata/pe.js";
import { PortablePdb, type LocalVariableName } from "../metadata/portable-pdb.js";

/** Upper bound for reads through an in-memory image: PE sizes are checked by the reader. */
const IMAGE_LIMIT = 1 << 30;

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
    try {
      return pdb.sourceLine(methodToken & 0xffffff, ilOffset);
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
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
    const source = { size: IMAGE_LIMIT, read: (offset: number, length: number) => this.memory.tryRead(base + offset, length) ?? new Uint8Array(0) };
    let codeView;
    try {
      const layout = PeImage.detectLayout(source, module.path);
      codeView = layout ? new PeImage(source, layout, module.path).codeViews().find((c) => c.portable) : undefined;
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
        const pdb = new PortablePdb(new Uint8Array(readFileSync(path)), path);
        if (pdb.guid === codeView.guid) return pdb;
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
      }
    }
    return undefined;
  }
}
