// RuntimeTypeSystem and Loader contracts, version 1 (dotnet/runtime docs/design/datacontracts/
// RuntimeTypeSystem.md, Loader.md), the parts that name code: MethodDesc -> chunk -> MethodTable
// and metadata token; MethodTable -> Module and TypeDef token; Module -> image base and path.
import type { RuntimeTarget } from "./target.js";

export interface MethodDescInfo {
  address: number;
  methodTable: number;
  /** MethodDef token (0x06xxxxxx), reassembled from the chunk's range and the desc's remainder. */
  token: number;
  slot: number;
  chunk: number;
}

export interface MethodTableInfo {
  address: number;
  module: number;
  /** TypeDef token (0x02xxxxxx); 0 for types without one (arrays, function pointers). */
  token: number;
  parent: number;
  baseSize: number;
}

export interface ModuleInfo {
  address: number;
  /** Load address of the PE image (0 for dynamic modules). */
  base: number;
  path: string;
}

const MAX_PATH_CHARS = 32 * 1024;

export class RuntimeTypeSystem {
  private readonly modules = new Map<number, ModuleInfo>();

  constructor(private readonly t: RuntimeTarget) {}

  methodDesc(address: number): MethodDescInfo {
    const t = this.t;
    const d = t.descriptor;
    const chunkIndex = t.u8(t.at(address, "MethodDesc", "ChunkIndex"));
    const chunk = address - chunkIndex * d.global("MethodDescAlignment") - d.size("MethodDescChunk");
    const remainderBits = d.global("MethodDescTokenRemainderBitCount");
    const remainder = t.u16(t.at(address, "MethodDesc", "Flags3AndTokenRemainder")) & ((1 << remainderBits) - 1);
    const range = t.u16(t.at(chunk, "MethodDescChunk", "FlagsAndTokenRange")) & (0xffffff >>> remainderBits);
    return {
      address,
      chunk,
      methodTable: t.pointerField(chunk, "MethodDescChunk", "MethodTable"),
      token: (0x06000000 | (range << remainderBits) | remainder) >>> 0,
      slot: t.u16(t.at(address, "MethodDesc", "Slot")),
    };
  }

  methodTable(address: number): MethodTableInfo {
    const t = this.t;
    const rid = t.u32Field(address, "MethodTable", "MTFlags2") >>> 8;
    return {
      address,
      module: t.pointerField(address, "MethodTable", "Module"),
      token: rid === 0 ? 0 : (0x02000000 | rid) >>> 0,
      parent: t.pointerField(address, "MethodTable", "ParentMethodTable"),
      baseSize: t.u32Field(address, "MethodTable", "BaseSize"),
    };
  }

  module(address: number): ModuleInfo {
    let m = this.modules.get(address);
    if (!m) {
      const t = this.t;
      const pathPointer = t.pointerField(address, "Module", "Path");
      m = { address, base: t.pointerField(address, "Module", "Base"), path: pathPointer ? this.utf16(pathPointer) : "" };
      this.modules.set(address, m);
    }
    return m;
  }

  /** A NUL-terminated UTF-16 string (the runtime's WCHAR paths). */
  private utf16(address: number): string {
    const chars: number[] = [];
    for (let a = address; chars.length < MAX_PATH_CHARS; a += 64) {
      const bytes = this.t.memory.tryRead(a, 64) ?? this.t.memory.read(a, 2);
      for (let i = 0; i + 1 < bytes.length; i += 2) {
        const c = bytes[i]! | (bytes[i + 1]! << 8);
        if (c === 0) return String.fromCharCode(...chars);
        chars.push(c);
      }
    }
    return String.fromCharCode(...chars);
  }
}
