// Which addresses hold executable code, and the CFI for each module: what the unwinder needs to
// validate return addresses and find unwind rules. Executable ranges are the dump's PF_X
// segments (including anonymous JIT memory) plus every module's PF_X PT_LOAD segments (heap
// dumps leave module text out of the dump but it is still code), plus what the runtime's code
// map knows to be managed code.
import type { Memory } from "../dump/address-space.js";
import type { MemorySegment } from "../dump/elf-core.js";
import { PF_X, PT_LOAD } from "../dump/elf-format.js";
import { EhFrameIndex } from "./cfi.js";
import type { ModuleList, NativeModule } from "./modules.js";
import type { CodeMap } from "./unwinder.js";
import type { ManagedFunction } from "./windows-unwind.js";
import { lastAtOrBelow } from "../dump/sorted.js";
import { rethrowIfBug } from "../errors.js";

export class ProcessCodeMap implements CodeMap {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly cfi = new Map<NativeModule, EhFrameIndex | undefined>();
  /** Set when a .NET runtime is known: unwind data of its managed code. */
  managedCode?: (address: number) => ManagedFunction | undefined;

  constructor(
    private readonly mem: Memory,
    segments: MemorySegment[],
    private readonly modules: ModuleList,
  ) {
    const ranges: [number, number][] = segments.filter((s) => s.flags & PF_X).map((s) => [s.start, s.end]);
    for (const m of modules.modules) {
      for (const ph of m.image?.programHeaders ?? []) {
        if (ph.type === PT_LOAD && ph.flags & PF_X) ranges.push([ph.vaddr + m.bias, ph.vaddr + m.bias + ph.memsz]);
      }
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.starts = Float64Array.from(merged, (r) => r[0]);
    this.ends = Float64Array.from(merged, (r) => r[1]);
  }

  isCode(address: number): boolean {
    const hi = lastAtOrBelow(this.starts, address);
    if (hi >= 0 && address < this.ends[hi]!) return true;
    // Managed code in a PE image is no PF_X segment when the dump leaves the image out (gcore):
    // the runtime's code map still knows it.
    return this.managedCode?.(address) !== undefined;
  }

  managedFunction(address: number): ManagedFunction | undefined {
    return this.managedCode?.(address);
  }

  cfiAt(address: number): EhFrameIndex | undefined {
    const m = this.modules.at(address);
    if (!m) return undefined;
    if (!this.cfi.has(m)) {
      let index: EhFrameIndex | undefined;
      try {
        index = m.image?.ehFrameHdr !== undefined ? EhFrameIndex.fromHeader(this.mem, m.image.ehFrameHdr) : undefined;
      } catch (e) {
        rethrowIfBug(e);
        index = undefined; // damaged .eh_frame_hdr: frame pointers and scanning still work
      }
      this.cfi.set(m, index);
    }
    return this.cfi.get(m);
  }
}
