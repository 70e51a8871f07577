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
    const n = this.values.length;
    const order = new Uint32Array(n);
    const ranks = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      order[i] = i;
      ranks[i] = this.rank(i);
    }
    // When several names share an address the plainest wins (clock_nanosleep over
    // clock_nanosleep@GLIBC_2.2.5 or __clock_nanosleep).
    order.sort((a, b) => this.values[a]! - this.values[b]! || ranks[a]! - ranks[b]!);
    const keep: number[] = [];
    for (const i of order) {
      const last = keep[keep.length - 1];
      if (last === undefined || this.values[last] !== this.values[i]) keep.push(i);
    }
    return new SymbolTable(
      Float64Array.from(keep, (i) => this.values[i]!),
      Float64Array.from(keep, (i) => this.sizes[i]!),
      Uint32Array.from(keep, (i) => this.tables[i]!),
      Uint32Array.from(keep, (i) => this.offsets[i]!),
      this.strtabs,
    );
  }

  /** Lower is preferred: sized, no version suffix, no leading underscores, no _alias. */
  private rank(i: number): number {
    const bytes = this.strtabs[this.tables[i]!]!;
    const start = this.offsets[i]!;
    let r = this.sizes[i] === 0 ? 4 : 0;
    if (bytes[start] === UNDERSCORE) r += bytes[start + 1] === UNDERSCORE ? 2 : 1;
    for (let p = start; p < bytes.length && bytes[p] !== 0; p++) {
      if (bytes[p] === AT) {
        r += 16;
        break;
      }
    }
    return r;
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

  private name(i: number): string {
    const bytes = this.strtabs[this.tables[i]!]!;
    const start = this.offsets[i]!;
    let end = start;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return decoder.decode(bytes.subarray(start, end));
  }
}

const decoder = new TextDecoder("utf-8");
