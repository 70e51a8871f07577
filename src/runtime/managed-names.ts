// Names of managed code for people: a MethodDesc becomes "Namespace.Type.Method" through the
// metadata of its module, read from the module's PE image in dump memory (EcmaMetadata
// contract: the image's CLI header locates the metadata).
import type { Memory } from "../dump/address-space.js";
import { ClrscopeError } from "../errors.js";
import { MetadataReader } from "../metadata/metadata.js";
import { PeImage } from "../metadata/pe.js";
import { dacMethodName } from "../metadata/type-names.js";
import type { ClrRuntime } from "./clr-runtime.js";

const TYPEDEF_TABLE = 0x02;
const MAX_NESTING = 64;
/** Upper bound for reads through an in-memory image: PE sizes are checked by the reader. */
const IMAGE_LIMIT = 1 << 30;

export class ManagedNames {
  private readonly metadata = new Map<number, MetadataReader | null>();

  constructor(
    private readonly rt: ClrRuntime,
    private readonly memory: Memory,
  ) {}

  /** File name of a module's assembly (e.g. "System.Private.CoreLib.dll"). */
  moduleFileName(module: number): string {
    const path = this.rt.module(module).path;
    return path.slice(path.lastIndexOf("/") + 1) || `module 0x${module.toString(16)}`;
  }

  /** "Namespace.Outer+Inner" of a MethodTable's TypeDef, or undefined without metadata. */
  typeName(methodTable: number): string | undefined {
    const mt = this.rt.methodTable(methodTable);
    const md = this.metadataOf(mt.module);
    if (!md || mt.token >>> 24 !== TYPEDEF_TABLE) return undefined;
    const parts: string[] = [];
    let rid = mt.token & 0xffffff;
    for (let i = 0; rid !== 0 && i < MAX_NESTING; i++) {
      const ns = md.typeDefNamespace(rid);
      parts.unshift(ns ? `${ns}.${md.typeDefName(rid)}` : md.typeDefName(rid));
      rid = md.enclosingType(rid);
    }
    return parts.join("+");
  }

  /**
   * SOS's full method name with parameter types ("Hello.Program.SleepForever()",
   * "System.Threading.Thread.Sleep(Int32)"). Generic instantiations print as their definitions
   * until the type system reads instantiations.
   */
  methodSignature(methodDesc: number): string {
    const md = this.rt.methodDesc(methodDesc);
    const mt = this.rt.methodTable(md.methodTable);
    const meta = this.metadataOf(mt.module);
    if (!meta || mt.token >>> 24 !== TYPEDEF_TABLE) return this.methodName(methodDesc);
    try {
      return dacMethodName({ kind: "named", md: meta, token: mt.token }, meta, md.token & 0xffffff);
    } catch (e) {
      if (e instanceof ClrscopeError) return this.methodName(methodDesc);
      throw e;
    }
  }

  /** "Namespace.Type.Method" of a MethodDesc (SOS's form without the signature). */
  methodName(methodDesc: number): string {
    const md = this.rt.methodDesc(methodDesc);
    const type = this.typeName(md.methodTable);
    const meta = this.metadataOf(this.rt.methodTable(md.methodTable).module);
    const method = meta ? meta.methodName(md.token & 0xffffff) : undefined;
    if (type === undefined || method === undefined) return `<MethodDesc 0x${methodDesc.toString(16)}, token 0x${md.token.toString(16)}>`;
    return `${type}.${method}`;
  }

  /** The metadata of a module's image in dump memory (undefined: dynamic module or pages missing). */
  moduleMetadata(module: number): MetadataReader | undefined {
    return this.metadataOf(module);
  }

  private metadataOf(module: number): MetadataReader | undefined {
    let md = this.metadata.get(module);
    if (md === undefined) {
      md = this.readMetadata(module) ?? null;
      this.metadata.set(module, md);
    }
    return md ?? undefined;
  }

  private readMetadata(module: number): MetadataReader | undefined {
    const { base, path } = this.rt.module(module);
    return readImageMetadata(this.memory, base, path);
  }
}

/**
 * The metadata of a module's PE image loaded at `base` in dump memory (undefined: no image, or
 * pages missing). The runtime maps ReadyToRun images section by section and IL-only ones flat.
 */
export function readImageMetadata(memory: Memory, base: number, path: string): MetadataReader | undefined {
  if (base === 0) return undefined;
  const source = { size: IMAGE_LIMIT, read: (offset: number, length: number) => memory.tryRead(base + offset, length) ?? new Uint8Array(0) };
  try {
    const layout = PeImage.detectLayout(source, path);
    return layout ? MetadataReader.fromPe(new PeImage(source, layout, path)) : undefined;
  } catch (e) {
    if (e instanceof ClrscopeError) return undefined;
    throw e;
  }
}
