// `memory read ADDR [-c N] [-s 1|2|4|8] [-f x|d|c|s]` (lldb). Missing memory is an error naming
// the address, never zeros.
import { throwIfCancelled } from "../../cancellation.js";
import { CommandError, MemoryNotInDump } from "../../errors.js";
import { defineCommand, hexAddress, hexPadded, parseArgs, parseNumber } from "../command.js";
import { MAX_C_STRING_BYTES, MAX_MEMORY_READ_BYTES } from "../../limits.js";

export interface MemoryReadResult {
  address: string;
  size: number;
  format: "x" | "d" | "c" | "s";
  /** Items as text (hex/decimal/char) or, with -f s, the strings read. */
  items: string[];
  /** The raw bytes, hex-encoded (not for -f s). */
  bytes?: string;
}

export const memoryRead = defineCommand<MemoryReadResult>({
  names: ["memory read", "x"],
  summary: "Read memory of the dumped process",
  usage: "memory read ADDR [-c COUNT] [-s 1|2|4|8] [-f x|d|c|s]",
  run(session, args) {
    const a = parseArgs(args, ["-c", "-s", "-f"]);
    if (a.positional.length !== 1) throw new CommandError("usage: memory read ADDR [-c COUNT] [-s 1|2|4|8] [-f x|d|c|s]", "usage");
    const address = parseNumber(a.positional[0]!);
    const format = (a.values.get("-f") ?? "x") as MemoryReadResult["format"];
    if (!["x", "d", "c", "s"].includes(format)) throw new CommandError(`unknown format '${format}' (x, d, c or s)`, "usage");
    const size = a.values.has("-s") ? parseNumber(a.values.get("-s")!, "item size") : 1;
    if (![1, 2, 4, 8].includes(size)) throw new CommandError(`item size must be 1, 2, 4 or 8 (got ${size})`, "usage");
    const count = a.values.has("-c") ? parseNumber(a.values.get("-c")!, "count") : format === "s" ? 1 : 32 / size;
    // A C string is at least one byte: a count past the cap is refused at once (and the loop below caps the bytes).
    if (count * (format === "s" ? 1 : size) > MAX_MEMORY_READ_BYTES) throw new CommandError(`refusing to read more than ${MAX_MEMORY_READ_BYTES} bytes at once`, "usage");
    const mem = session.process.memory;
    if (format === "s") {
      const items: string[] = [];
      let at = address;
      // Strings can be long: the byte cap holds for all of them together, not just their count.
      for (let i = 0; i < count && at - address < MAX_MEMORY_READ_BYTES; i++) {
        throwIfCancelled();
        const bytes: number[] = [];
        // A string cut at its cap leaves the next byte to the next string.
        while (bytes.length < MAX_C_STRING_BYTES && at - address < MAX_MEMORY_READ_BYTES) {
          const b = mem.tryRead(at, 1);
          if (!b) throw new MemoryNotInDump(at, 1);
          at++;
          if (b[0] === 0) break;
          bytes.push(b[0]!);
        }
        items.push(Buffer.from(bytes).toString("utf8"));
      }
      return { address: hexAddress(address), size: 1, format, items };
    }
    const bytes = mem.read(address, count * size);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const items: string[] = [];
    for (let i = 0; i < count; i++) {
      const o = i * size;
      const v = size === 1 ? BigInt(view.getUint8(o)) : size === 2 ? BigInt(view.getUint16(o, true)) : size === 4 ? BigInt(view.getUint32(o, true)) : view.getBigUint64(o, true);
      if (format === "x") items.push(hexPadded(v, size * 2));
      else if (format === "d") items.push((size === 8 ? BigInt.asIntN(64, v) : BigInt.asIntN(size * 8, v)).toString());
      else items.push(printable(Number(v)));
    }
    return { address: hexAddress(address), size, format, items, bytes: Buffer.from(bytes).toString("hex") };
  },
  render(r) {
    const base = parseInt(r.address, 16);
    if (r.format === "s") return r.items.map((s) => `"${s}"`).join("\n");
    const perLine = r.format === "c" ? 16 : Math.max(1, 16 / r.size);
    const lines: string[] = [];
    for (let i = 0; i < r.items.length; i += perLine) {
      const chunk = r.items.slice(i, i + perLine);
      let line = `${hexPadded(base + i * r.size)}: ${r.format === "c" ? chunk.join("") : chunk.join(" ")}`;
      if (r.format === "x" && r.size === 1 && r.bytes) {
        const raw = Buffer.from(r.bytes.slice(i * 2, (i + chunk.length) * 2), "hex");
        line = `${hexPadded(base + i)}: ${chunk.map((x) => x.slice(2)).join(" ").padEnd(47)}  ${[...raw].map(printable).join("")}`;
      }
      lines.push(line);
    }
    return lines.join("\n");
  },
});

function printable(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
}
