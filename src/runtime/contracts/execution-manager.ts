// ExecutionManager contract, versions 1 and 2 (dotnet/runtime docs/design/datacontracts/
// ExecutionManager.md): code address -> the code block holding it (start address and MethodDesc)
// through the range section map, then the JIT'd code heap's nibble map (EE JIT manager) or the
// ReadyToRun image's runtime functions.
import type { ManagedFunction } from "../../native/windows-unwind.js";
import { ClrscopeError, CorruptDataError, MemoryNotInDump } from "../../errors.js";
import { warn } from "../../warnings.js";
import { MissingRuntimeDataError } from "./descriptor.js";
import type { RuntimeTarget } from "./target.js";
import { hex } from "../../hex.js";
import { MAX_FUNCLETS, MAX_RUNTIME_FUNCTIONS } from "../../limits.js";
import { POINTER_SIZE } from "../../dump/address-space.js";

export interface CodeBlock {
  /** First instruction of the method (or of the hot part holding the address). */
  start: number;
  methodDesc: number;
  /** The address's offset from `start`. */
  offset: number;
  /**
   * Bytes of code from `start`: the method's body and its funclets, to the end of its last
   * RUNTIME_FUNCTION (a cold part elsewhere is not counted). JIT'd code only: a ReadyToRun
   * method's extent is in its GC info, which is not decoded here (the DAC answers).
   */
  size: number | undefined;
  kind: "jit" | "readytorun";
  /** The RangeSection and its base, which unwind info (RUNTIME_FUNCTION) is relative to. */
  rangeSection: number;
  unwindBase: number;
  /** The RUNTIME_FUNCTION entry covering the address (the method, a funclet or a cold part), 0 if none. */
  runtimeFunction: number;
  /** JIT'd code: its debug info blob (RealCodeHeader.DebugInfo; 0 for none, e.g. IL stubs). */
  debugInfo?: number;
}

// Range section map geometry (64-bit): 5 levels of 256 entries over address bits 56..17.
const LEVELS = 5;
const LEVEL_BITS = 8;
const CHUNK_BITS = 17;
// Nibble map geometry: 32-byte buckets, 8 nibbles per 32-bit map unit (256 bytes of code),
// code starts 4-byte aligned (nibble value = 1 + offset/4; 9..12 mark a relative pointer in v2).
const BUCKET_BITS = 5;
const NIBBLES_PER_UNIT = 8;
const UNIT_BYTES = 256;
/** RangeSection.Flags bit: the section is a code heap (JIT'd code) rather than an image. */
const RANGE_SECTION_CODEHEAP = 0x2;
/** RangeSection.Flags bit: the section holds stubs (a range list), not methods. */
const RANGE_SECTION_RANGELIST = 0x4;

const CODE_MAP_DAMAGED =
  "the runtime's code map (range sections, code headers) is damaged: some code addresses cannot be mapped to managed methods, so managed frames may be missing or misnamed";
const CODE_MAP_EMPTY = "the runtime's range section map is empty (damaged): no code can be mapped to managed methods, so managed frames are missing";

export class ExecutionManager {
  private readonly version: number;
  /** null: not managed code; "damaged": the lookup met damaged data (warned again at each use). */
  private readonly cache = new Map<number, CodeBlock | null | "damaged">();
  private mapEmpty?: boolean;

  constructor(private readonly t: RuntimeTarget) {
    // .NET 11's "c1" is the .NET 10 implementation 2 (the constant-time nibble map) renamed.
    this.version = t.descriptor.hasStringVersion("ExecutionManager") ? 2 : Number(t.descriptor.contractVersion("ExecutionManager") ?? 1);
  }

  /** The managed code block holding `ip`, or undefined for native code, stubs and unknown addresses. */
  codeBlock(ip: number): CodeBlock | undefined {
    let hit = this.cache.get(ip);
    if (hit === undefined) {
      try {
        hit = this.lookup(ip) ?? null;
      } catch (e) {
        // A field this runtime does not publish is not damage (callers fall back to the DAC), nor
        // is memory a heap dump leaves out (callers fall back to the module's image, or warn).
        if (!(e instanceof ClrscopeError) || e instanceof MissingRuntimeDataError || e instanceof MemoryNotInDump) throw e;
        hit = "damaged";
      }
      this.cache.set(ip, hit);
    }
    if (hit === "damaged") warn(CODE_MAP_DAMAGED);
    else if (hit === null && this.rangeSectionMapEmpty()) warn(CODE_MAP_EMPTY);
    return hit === "damaged" ? undefined : (hit ?? undefined);
  }

  /** A live runtime always has code registered (CoreLib's image at least): an all-zero top level is damage. */
  private rangeSectionMapEmpty(): boolean {
    if (this.mapEmpty === undefined) {
      const entries = this.t.memory.tryRead(this.topLevel(), 2 ** LEVEL_BITS * POINTER_SIZE);
      this.mapEmpty = entries !== undefined && entries.every((b) => b === 0);
    }
    return this.mapEmpty;
  }

  /** Unwind data of the code at `ip` (its RUNTIME_FUNCTION's UNWIND_INFO). */
  unwindInfo(ip: number): ManagedFunction | undefined {
    const block = this.codeBlock(ip);
    if (!block || block.runtimeFunction === 0) return undefined;
    const t = this.t;
    const rf = block.runtimeFunction;
    return {
      start: block.unwindBase + t.u32(t.at(rf, "RuntimeFunction", "BeginAddress")),
      unwindInfo: block.unwindBase + t.u32(t.at(rf, "RuntimeFunction", "UnwindData")),
      imageBase: block.unwindBase,
    };
  }

  private lookup(ip: number): CodeBlock | undefined {
    const section = this.rangeSection(ip);
    if (section === undefined) return undefined;
    const t = this.t;
    const r2rModule = t.pointerField(section, "RangeSection", "R2RModule");
    if (r2rModule !== 0) return this.readyToRunBlock(section, r2rModule, ip);
    const flags = t.u32Field(section, "RangeSection", "Flags");
    if ((flags & RANGE_SECTION_RANGELIST) !== 0) return undefined;
    // Every section is an image (R2RModule), a code heap or a stub range list: none of these is damage.
    if ((flags & RANGE_SECTION_CODEHEAP) === 0) throw new CorruptDataError(`RangeSection ${hex(section)} is neither an image, a code heap nor a stub range (flags ${hex(flags)})`);
    return this.jittedBlock(section, ip);
  }

  /** The map's top level: its 256 entries sit inline in the map object (TopLevelData is the array). */
  private topLevel(): number {
    const t = this.t;
    const map = t.descriptor.global("ExecutionManagerCodeRangeMapAddress");
    if (map === 0) throw new CorruptDataError("the descriptor gives the range section map the address 0 (damaged pointer data)");
    return t.at(map, "RangeSectionMap", "TopLevelData");
  }

  /** Walk the range section map down to the fragment list for `ip`'s 128 KiB chunk. */
  private rangeSection(ip: number): number | undefined {
    const t = this.t;
    let level = this.topLevel();
    for (let l = LEVELS; l >= 1 && level !== 0; l--) {
      const index = Math.floor(ip / 2 ** (CHUNK_BITS + (l - 1) * LEVEL_BITS)) % 2 ** LEVEL_BITS;
      level = untag(t.pointer(level + index * POINTER_SIZE));
    }
    // `level` is now the first fragment of the chunk's list.
    for (let fragment = level, n = 0; fragment !== 0 && n < 10_000; n++) {
      const begin = t.pointerField(fragment, "RangeSectionFragment", "RangeBegin");
      const end = t.pointerField(fragment, "RangeSectionFragment", "RangeEndOpen");
      if (end <= begin) throw new CorruptDataError(`RangeSectionFragment ${hex(fragment)} has an empty range [${hex(begin)}, ${hex(end)})`);
      if (ip >= begin && ip < end) {
        const section = t.pointerField(fragment, "RangeSectionFragment", "RangeSection");
        if (section === 0) return undefined;
        // A fragment repeats its section's range: a section whose range differs is damaged, not
        // "no managed code here".
        const sectionBegin = t.pointerField(section, "RangeSection", "RangeBegin");
        const sectionEnd = t.descriptor.hasField("RangeSection", "RangeEndOpen") ? t.pointerField(section, "RangeSection", "RangeEndOpen") : Infinity;
        if (sectionBegin !== begin || sectionEnd !== end) {
          throw new CorruptDataError(`RangeSection ${hex(section)} [${hex(sectionBegin)}, ${hex(sectionEnd)}) differs from its fragment's range [${hex(begin)}, ${hex(end)})`);
        }
        // A section pending deletion holds no code that a thread could still run or return to.
        const nextForDelete = t.pointerField(section, "RangeSection", "NextForDelete");
        if (nextForDelete !== 0) throw new CorruptDataError(`RangeSection ${hex(section)} covering ${hex(ip)} is marked for deletion (NextForDelete ${hex(nextForDelete)})`);
        return section;
      }
      fragment = untag(t.pointerField(fragment, "RangeSectionFragment", "Next"));
    }
    return undefined;
  }

  private jittedBlock(section: number, ip: number): CodeBlock | undefined {
    const t = this.t;
    const heap = t.pointerField(section, "RangeSection", "HeapList");
    if (heap === 0) throw new CorruptDataError(`code heap RangeSection ${hex(section)} has no heap list`);
    const mapBase = t.pointerField(heap, "CodeHeapListNode", "MapBase");
    const headerMap = t.pointerField(heap, "CodeHeapListNode", "HeaderMap");
    // The section maps the address to this heap: a heap whose code starts above it is damaged.
    if (mapBase > ip) throw new CorruptDataError(`code heap ${hex(heap)}'s code starts at ${hex(mapBase)}, above ${hex(ip)}`);
    const start = this.version >= 2 ? this.findStartConstant(mapBase, headerMap, ip) : this.findStartLinear(mapBase, headerMap, ip);
    if (start === undefined) return undefined;
    // The code header pointer sits just before the code; small values mark stub blocks.
    const headerSlot = start - 8;
    const header = t.pointer(headerSlot);
    if (header <= t.descriptor.global("StubCodeBlockLast")) return undefined;
    const methodDesc = t.pointerField(header, "RealCodeHeader", "MethodDesc");
    const unwindBase = t.pointerField(section, "RangeSection", "RangeBegin");
    const functions = this.jittedRuntimeFunctions(header);
    const rva = ip - unwindBase;
    const covering = functions.find((f) => rva >= f.begin && rva < f.end) ?? functions[0];
    const end = functions.length > 0 ? unwindBase + Math.max(...functions.map((f) => f.end)) : undefined;
    return {
      start, methodDesc, offset: ip - start, size: end !== undefined && end > start ? end - start : undefined,
      kind: "jit", rangeSection: section, unwindBase, runtimeFunction: covering?.address ?? 0,
      debugInfo: t.descriptor.hasField("RealCodeHeader", "DebugInfo") ? t.pointerField(header, "RealCodeHeader", "DebugInfo") : undefined,
    };
  }

  /** The code header's inline RUNTIME_FUNCTIONs (the method, then its funclets), RVAs from the section's base. */
  private jittedRuntimeFunctions(header: number): { address: number; begin: number; end: number }[] {
    const t = this.t;
    const count = t.u32Field(header, "RealCodeHeader", "NumUnwindInfos");
    const first = t.at(header, "RealCodeHeader", "UnwindInfos");
    const size = t.descriptor.size("RuntimeFunction");
    const beginOff = t.descriptor.offset("RuntimeFunction", "BeginAddress");
    const endOff = t.descriptor.offset("RuntimeFunction", "EndAddress");
    return Array.from({ length: Math.min(count, MAX_FUNCLETS) }, (_, i) => {
      const address = first + i * size;
      return { address, begin: t.u32(address + beginOff), end: t.u32(address + endOff) };
    });
  }

  /** Nibble of bucket `bucket` within map unit value `unit` (nibbles numbered from the top). */
  private static nibble(unit: number, bucket: number): number {
    return (unit >>> (28 - 4 * (bucket % NIBBLES_PER_UNIT))) & 0xf;
  }

  /** The last method start at or before `ip` within map unit `unitIndex`, looking at buckets up to `lastBucket`. */
  private startInUnit(mapBase: number, unit: number, unitIndex: number, lastBucket: number, ip: number): number | undefined {
    for (let b = lastBucket; b >= unitIndex * NIBBLES_PER_UNIT; b--) {
      const n = ExecutionManager.nibble(unit, b);
      if (n === 0 || n > 8) continue;
      const start = mapBase + b * 2 ** BUCKET_BITS + (n - 1) * 4;
      if (start <= ip) return start;
    }
    return undefined;
  }

  /** v2 (NibbleMapConstantLookup): a unit fully covered by one method holds a relative pointer to it. */
  private findStartConstant(mapBase: number, headerMap: number, ip: number): number | undefined {
    const delta = ip - mapBase;
    const unitIndex = Math.floor(delta / UNIT_BYTES);
    const bucket = Math.floor(delta / 2 ** BUCKET_BITS);
    for (const [u, last] of [[unitIndex, bucket], [unitIndex - 1, unitIndex * NIBBLES_PER_UNIT - 1]] as const) {
      if (u < 0) return undefined;
      const unit = this.t.u32(headerMap + u * 4);
      if (unit === 0) continue;
      const low = unit & 0xf;
      if (low >= 9 && low <= 12) return mapBase + (unit - low) + ((low - 9) << 2);
      const start = this.startInUnit(mapBase, unit, u, last, ip);
      if (start !== undefined) return start;
    }
    return undefined;
  }

  /** v1 (NibbleMapLinearLookup): scan back through map units until a method start. */
  private findStartLinear(mapBase: number, headerMap: number, ip: number): number | undefined {
    const delta = ip - mapBase;
    let bucket = Math.floor(delta / 2 ** BUCKET_BITS);
    for (let u = Math.floor(delta / UNIT_BYTES), n = 0; u >= 0 && n < 1 << 20; u--, n++) {
      const unit = this.t.u32(headerMap + u * 4);
      const start = unit === 0 ? undefined : this.startInUnit(mapBase, unit, u, bucket, ip);
      if (start !== undefined) return start;
      bucket = u * NIBBLES_PER_UNIT - 1;
    }
    return undefined;
  }

  /** ReadyToRun code: binary search the image's RUNTIME_FUNCTIONs, then EntryPointToMethodDescMap. */
  private readyToRunBlock(section: number, module: number, ip: number): CodeBlock | undefined {
    const t = this.t;
    // The section is registered for a ReadyToRun image: missing or implausible R2R data is damage.
    const info = t.pointerField(module, "Module", "ReadyToRunInfo");
    if (info === 0) throw new CorruptDataError(`RangeSection ${hex(section)}'s module ${hex(module)} has no ReadyToRunInfo`);
    const imageBase = t.pointerField(section, "RangeSection", "RangeBegin");
    const count = t.u32Field(info, "ReadyToRunInfo", "NumRuntimeFunctions");
    const functions = t.pointerField(info, "ReadyToRunInfo", "RuntimeFunctions");
    if (count === 0 || count > MAX_RUNTIME_FUNCTIONS || functions === 0) throw new CorruptDataError(`ReadyToRunInfo ${hex(info)} lists ${count} runtime functions at ${hex(functions)}`);
    const size = t.descriptor.size("RuntimeFunction");
    const beginOff = t.descriptor.offset("RuntimeFunction", "BeginAddress");
    const rva = ip - imageBase;
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (t.u32(functions + mid * size + beginOff) <= rva) lo = mid + 1;
      else hi = mid - 1;
    }
    // Funclets and cold parts have their own entries but no MethodDesc: step back to the owner.
    if (hi < 0) return undefined;
    const runtimeFunction = functions + hi * size;
    for (let i = hi; i >= 0 && i > hi - 64; i--) {
      const start = imageBase + t.u32(functions + i * size + beginOff);
      const methodDesc = this.entryPointToMethodDesc(info, start);
      // Which entries after this one are its funclets only the method's GC info says (and
      // methods never called are missing from the map, so the next method cannot be told apart).
      if (methodDesc !== 0) return { start, methodDesc, offset: ip - start, size: undefined, kind: "readytorun", rangeSection: section, unwindBase: imageBase, runtimeFunction };
    }
    return undefined;
  }

  /**
   * The runtime's HashMap (EntryPointToMethodDescMap, src/coreclr/vm/hash.cpp): element 0 of
   * the bucket array holds the bucket count; buckets hold HashMapSlotsPerBucket keys and values;
   * double hashing with seed = key >> 2 and step = 1 + ((key >> 5) + 1) % (count - 1), both
   * 32-bit; a bucket without the collision bit (the top bit of its first value) ends the probe.
   * Values are stored shifted right by one (PtrHashMap).
   */
  private entryPointToMethodDesc(info: number, entryPoint: number): number {
    const t = this.t;
    const map = t.at(info, "ReadyToRunInfo", "EntryPointToMethodDescMap");
    const table = t.pointerField(map, "HashMap", "Buckets");
    if (table === 0) return 0;
    const slots = t.descriptor.global("HashMapSlotsPerBucket");
    const valueMask = t.descriptor.globalBig("HashMapValueMask");
    const bucketSize = t.descriptor.size("Bucket");
    const keysOff = t.descriptor.offset("Bucket", "Keys");
    const valuesOff = t.descriptor.offset("Bucket", "Values");
    const count = t.pointer(table);
    if (count < 2 || count > 1 << 26) return 0;
    const buckets = table + bucketSize;
    let seed = Math.floor(entryPoint / 4) % 2 ** 32;
    const step = 1 + ((Math.floor(entryPoint / 32) % 2 ** 32) + 1) % (count - 1);
    for (let probe = 0; probe < count; probe++) {
      const bucket = buckets + (seed % count) * bucketSize;
      for (let s = 0; s < slots; s++) {
        // A PtrHashMap stores pointers shifted right by one (the top bit is the collision flag).
        if (t.pointer(bucket + keysOff + s * POINTER_SIZE) === entryPoint) return Number(t.u64(bucket + valuesOff + s * POINTER_SIZE) & valueMask) * 2;
      }
      if ((t.u64(bucket + valuesOff) & ~valueMask & ((1n << 64n) - 1n)) === 0n) return 0;
      seed = (seed + step) % 2 ** 32;
    }
    return 0;
  }
}

/** Range section map entries carry a "collectible" tag in bit 0. */
function untag(pointer: number): number {
  return pointer - (pointer % 2);
}
