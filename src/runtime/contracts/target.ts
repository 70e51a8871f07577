// Typed reads of runtime structures: dump memory plus the descriptor's layouts. Contract code
// names fields (`thread.field("Thread", "OSId")`); offsets never appear in clrscope's source.
import type { Memory } from "../../dump/address-space.js";
import { ClrscopeError, CorruptDataError, ExitCode, MemoryNotInDump } from "../../errors.js";
import type { RuntimeDescriptor } from "./descriptor.js";
import { MAX_UTF16_CHARS } from "../../limits.js";
import { POINTER_SIZE } from "../../dump/address-space.js";


/** A runtime global variable the dump cannot give: what depends on it is unknown, not invalid. */
export class GlobalUnreadableError extends ClrscopeError {
  constructor(name: string, why: string) {
    super("global-unreadable", `the runtime's global ${name} is unreadable (${why})`, ExitCode.commandFailed);
  }
}

export class RuntimeTarget {
  constructor(
    readonly memory: Memory,
    readonly descriptor: RuntimeDescriptor,
  ) {}

  pointer(address: number): number {
    const v = this.memory.tryReadPointer(address);
    if (Number.isNaN(v)) {
      if (this.memory.tryRead(address, POINTER_SIZE) === undefined) throw new MemoryNotInDump(address, POINTER_SIZE);
      throw new CorruptDataError(`pointer at 0x${address.toString(16)} is not a user-space address`);
    }
    return v;
  }

  u8(address: number): number {
    return this.memory.read(address, 1)[0]!;
  }

  u16(address: number): number {
    const b = this.memory.read(address, 2);
    return b[0]! | (b[1]! << 8);
  }

  u32(address: number): number {
    const b = this.memory.read(address, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  i32(address: number): number {
    return this.u32(address) | 0;
  }

  u64(address: number): bigint {
    return this.memory.readU64(address);
  }

  /** Address of `type.field` in the structure at `base`. */
  at(base: number, type: string, field: string): number {
    return base + this.descriptor.offset(type, field);
  }

  pointerField(base: number, type: string, field: string): number {
    return this.pointer(this.at(base, type, field));
  }

  u32Field(base: number, type: string, field: string): number {
    return this.u32(this.at(base, type, field));
  }

  i32Field(base: number, type: string, field: string): number {
    return this.i32(this.at(base, type, field));
  }

  /** A NUL-terminated UTF-16 string (the runtime's WCHAR paths and names), at most 32K chars. */
  utf16z(address: number): string {
    const chars: number[] = [];
    for (let a = address; chars.length < MAX_UTF16_CHARS; ) {
      const bytes = this.memory.tryRead(a, 64) ?? this.memory.read(a, 2);
      a += bytes.length;
      for (let i = 0; i + 1 < bytes.length; i += 2) {
        const c = bytes[i]! | (bytes[i + 1]! << 8);
        if (c === 0) return String.fromCharCode(...chars);
        chars.push(c);
      }
    }
    return String.fromCharCode(...chars);
  }

  /** Value of the variable a pointer global points at (`ReadPointer(ReadGlobalPointer(name))`). */
  globalVariable(name: string): number {
    const address = this.descriptor.global(name);
    try {
      return this.pointer(address);
    } catch (e) {
      if (e instanceof ClrscopeError) throw new GlobalUnreadableError(name, e.message);
      throw e;
    }
  }
}
