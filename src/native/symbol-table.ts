// Function symbols of one image, sorted by address in flat arrays so a lookup is one binary
// search with no per-symbol objects.
import { lastAtOrBelow } from "../dump/sorted.js";

export interface RawSymbol {
  /** Address relative to the image's link-time addresses (st_value). */
  value: number;
  size: number;
  name: string;
}

export interface SymbolHit {
  name: string;
  /** Size in bytes; 0 when the symbol table does not say. */
  size: number;
  /** Link-time address of the symbol. */
  value: number;
  offset: number;
}

export class SymbolTable {
  private readonly values: Float64Array;
  private readonly sizes: Float64Array;
  private readonly names: string[];

  constructor(symbols: RawSymbol[]) {
    // Sort an index by (address, rank) so that when several names share an address the
    // plainest one wins (clock_nanosleep over clock_nanosleep@GLIBC_2.2.5 or __GI_...).
    const order = new Uint32Array(symbols.length);
    const ranks = new Uint8Array(symbols.length);
    for (let i = 0; i < symbols.length; i++) {
      order[i] = i;
      ranks[i] = rank(symbols[i]!);
    }
    order.sort((a, b) => symbols[a]!.value - symbols[b]!.value || ranks[a]! - ranks[b]!);
    const dedup: RawSymbol[] = [];
    for (const i of order) {
      const s = symbols[i]!;
      if (s.name.length === 0) continue;
      const prev = dedup[dedup.length - 1];
      if (prev && prev.value === s.value) continue;
      dedup.push(s);
    }
    this.values = Float64Array.from(dedup, (s) => s.value);
    this.sizes = Float64Array.from(dedup, (s) => s.size);
    this.names = dedup.map((s) => s.name);
  }

  get count(): number {
    return this.names.length;
  }

  /**
   * The symbol containing `value`. A sized symbol must contain it; an unsized one (size 0, as
   * in some assembly routines) covers up to the next symbol.
   */
  lookup(value: number): SymbolHit | undefined {
    const hi = lastAtOrBelow(this.values, value);
    if (hi < 0) return undefined;
    const start = this.values[hi]!;
    const size = this.sizes[hi]!;
    if (size > 0 && value >= start + size) return undefined;
    return { name: this.names[hi]!, size, value: start, offset: value - start };
  }

  /** Symbols whose name equals `name` (for `image lookup -n`, breakpoints later). */
  find(name: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === name) out.push(this.values[i]!);
    return out;
  }
}

function rank(s: RawSymbol): number {
  let r = 0;
  if (s.name.includes("@")) r += 16; // versioned alias (clock_nanosleep@GLIBC_2.2.5)
  if (s.name.includes("_alias")) r += 8;
  if (s.size === 0) r += 4;
  if (s.name.startsWith("__")) r += 2;
  else if (s.name.startsWith("_")) r += 1;
  return r;
}
