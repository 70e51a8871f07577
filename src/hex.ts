// Hex formatting of addresses. Number.prototype.toString(16) costs about a microsecond for
// values above 2^31 (a double-to-radix conversion); a byte table is an order of magnitude
// faster, and backtraces and heap listings format hundreds of thousands of addresses.

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex digits of `n` (no prefix), at least `minDigits` long. */
export function hexDigits(n: number | bigint, minDigits = 1): string {
  if (typeof n === "bigint" || n < 0 || !Number.isSafeInteger(n)) return n.toString(16).padStart(minDigits, "0");
  const lo = n >>> 0;
  const hi = (n - lo) / 4294967296; // < 2^21 for safe integers
  let s = BYTE_HEX[lo >>> 24]! + BYTE_HEX[(lo >>> 16) & 255]! + BYTE_HEX[(lo >>> 8) & 255]! + BYTE_HEX[lo & 255]!;
  if (hi > 0) s = BYTE_HEX[hi >>> 16]! + BYTE_HEX[(hi >>> 8) & 255]! + BYTE_HEX[hi & 255]! + s;
  if (s.length < minDigits) return s.padStart(minDigits, "0");
  let i = 0;
  const maxStrip = s.length - minDigits;
  while (i < maxStrip && s.charCodeAt(i) === 48) i++;
  return i > 0 ? s.slice(i) : s;
}

/** 0x-prefixed, as addresses appear in JSON results. */
export function hex(n: number | bigint): string {
  return "0x" + hexDigits(n);
}

/** 0x-prefixed and zero-padded, as lldb prints addresses and registers. */
export function hexPadded(n: number | bigint, digits = 16): string {
  return "0x" + hexDigits(n, digits);
}
