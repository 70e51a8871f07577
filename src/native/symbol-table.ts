// Function and data symbols of one image, sorted by address in flat typed arrays. Names stay as
// offsets into their string tables and are decoded only when a lookup returns them: a libc debug
// file has tens of thousands of symbols and a backtrace needs a few dozen.
import { lastAtOrBelow } from "../dump/sorted.js";

export interface SymbolHit {
  name: string;
  /** Link-time address of the symbol. */
  value: number;
  /** Size in bytes; 0 when the symbol table does not say. */
  size: number;
  offset: number;
}

const AT = 0x40;
const UNDERSCORE = 0x5f;
const ALIAS = new TextEncoder().encode("_alias");

export class SymbolTableBuilder {
  private readonly values: number[] = [];
  private readonly sizes: number[] = [];
  private readonly tables: number[] = [];
  private readonly offsets: number[] = [];
  private readonly strtabs: Uint8Array[] = [];

  /** Register a string table; returns its id for `add`. */
  addStringTable(bytes: Uint8Array): number {
    this.strtabs.push(bytes);
    return this.strtabs.length - 1;
  }

  add(value: number, size: number, strtab: number, nameOffset: number): void {
    const table = this.strtabs[strtab]!;
    if (nameOffset >= table.length || table[nameOffset] === 0) return;
    this.values.push(value);
    this.sizes.push(size);
    this.tables.push(strtab);
    this.offsets.push(nameOffset);
  }

  get count(): number {
    return this.values.length;
  }

  build(): SymbolTable {
    const order = this.sortedOrder();
    const keep: number[] = [];
    for (const i of order) {
      const last = keep[keep.length - 1];
      if (last === undefined || this.values[last] !== this.values[i]) keep.push(i);
    }
    const n = keep.length;
    const values = new Float64Array(n);
    const sizes = new Float64Array(n);
    const tables = new Uint32Array(n);
    const offsets = new Uint32Array(n);
    for (let j = 0; j < n; j++) {
      const i = keep[j]!;
      values[j] = this.values[i]!;
      sizes[j] = this.sizes[i]!;
      tables[j] = this.tables[i]!;
      offsets[j] = this.offsets[i]!;
    }
    return new SymbolTable(values, sizes, tables, offsets, this.strtabs);
  }

  /**
   * Symbol indices by (address, rank): when several names share an address the plainest comes
   * first (clock_nanosleep before clock_nanosleep@GLIBC_2.2.5 or __clock_nanosleep). When the
   * address, rank and index fit together in a double's 53 bits, a plain numeric sort of packed
   * keys avoids a comparator call per comparison (this runs cold, once per module).
   */
  private sortedOrder(): Uint32Array | number[] {
    const n = this.values.length;
    const indexBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
    let max = 0;
    for (const v of this.values) if (v > max) max = v;
    if (max < 2 ** (53 - 5 - indexBits)) {
      const keys = new Float64Array(n);
      const scale = 2 ** indexBits;
      for (let i = 0; i < n; i++) keys[i] = (this.values[i]! * 32 + this.rank(i)) * scale + i;
      keys.sort();
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = keys[i]! % scale;
      return order;
    }
    const ranks = Array.from({ length: n }, (_, i) => this.rank(i));
    return Array.from({ length: n }, (_, i) => i).sort((a, b) => this.values[a]! - this.values[b]! || ranks[a]! - ranks[b]!);
  }

  /**
   * 0..31, lower is preferred: sized, no leading underscores (pthread_cond_wait over
   * __GI___pthread_cond_wait), not an "_alias". Version suffixes (@GLIBC_2.3.2) do not
   * count: they are dropped from the name shown.
   */
  private rank(i: number): number {
    const bytes = this.strtabs[this.tables[i]!]!;
    const start = this.offsets[i]!;
    let r = this.sizes[i] === 0 ? 4 : 0;
    if (bytes[start] === UNDERSCORE) r += bytes[start + 1] === UNDERSCORE ? 2 : 1;
    if (r > 0 && this.contains(bytes, start, ALIAS)) r += 8; // glibc's __libc_start_main_alias_2 and kin
    return r;
  }

  private contains(bytes: Uint8Array, start: number, needle: Uint8Array): boolean {
    for (let p = start; p < bytes.length && bytes[p] !== 0; p++) {
      let k = 0;
      while (k < needle.length && bytes[p + k] === needle[k]) k++;
      if (k === needle.length) return true;
    }
    return false;
  }
}

export class SymbolTable {
  constructor(
    private readonly values: Float64Array,
    private readonly sizes: Float64Array,
    private readonly tables: Uint32Array,
    private readonly offsets: Uint32Array,
    private readonly strtabs: Uint8Array[],
  ) {}

  get count(): number {
    return this.values.length;
  }

  /**
   * The symbol containing `value`. A sized symbol must contain it; an unsized one (size 0, as
   * in some assembly routines) covers up to the next symbol.
   */
  lookup(value: number): SymbolHit | undefined {
    const i = lastAtOrBelow(this.values, value);
    if (i < 0) return undefined;
    const start = this.values[i]!;
    const size = this.sizes[i]!;
    if (size > 0 && value >= start + size) return undefined;
    return { name: this.name(i), value: start, size, offset: value - start };
  }

  /** Addresses of the symbols called `name`. */
  find(name: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.values.length; i++) if (this.name(i) === name) out.push(this.values[i]!);
    return out;
  }

  /** The symbol's name without an ELF version suffix (foo@@GLIBC_2.17 -> foo). */
  private name(i: number): string {
    const bytes = this.strtabs[this.tables[i]!]!;
    const start = this.offsets[i]!;
    let end = start;
    while (end < bytes.length && bytes[end] !== 0 && (bytes[end] !== AT || end === start)) end++;
    return decoder.decode(bytes.subarray(start, end));
  }
}

const decoder = new TextDecoder("utf-8");
