// Function symbols of one image, sorted by address in flat arrays so a lookup is one binary
// search with no per-symbol objects.

export interface RawSymbol {
  /** Address relative to the image's link-time addresses (st_value). */
  value: number;
  size: number;
  name: string;
}

export interface SymbolHit {
  name: string;
  /** Link-time address of the symbol. */
  value: number;
  offset: number;
}

export class SymbolTable {
  private readonly values: Float64Array;
  private readonly sizes: Float64Array;
  private readonly names: string[];

  constructor(symbols: RawSymbol[]) {
    // Prefer sized, global-looking names when several share an address (memcpy vs __memcpy_avx).
    const sorted = symbols
      .filter((s) => s.name.length > 0)
      .sort((a, b) => a.value - b.value || rank(a) - rank(b));
    const dedup: RawSymbol[] = [];
    for (const s of sorted) {
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
    let lo = 0;
    let hi = this.values.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.values[mid]! <= value) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const start = this.values[hi]!;
    const size = this.sizes[hi]!;
    if (size > 0 && value >= start + size) return undefined;
    return { name: this.names[hi]!, value: start, offset: value - start };
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
