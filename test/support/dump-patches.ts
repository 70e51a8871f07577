// Byte patches for a real core dump, read through the alterations mechanism (altered-cli.ts):
// rename a file in NT_FILE, zero or fill target memory by address. The dump is never written.
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PT_LOAD = 1;
const PT_NOTE = 4;
const PHDR_SIZE = 56;

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

export interface Patch {
  offset: number;
  hex: string;
}

function readAt(core: string, offset: number, length: number): Buffer {
  const fd = openSync(core, "r");
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

function segments(core: string): Segment[] {
  const header = readAt(core, 0, 64);
  const phoff = Number(header.readBigUInt64LE(0x20));
  const phnum = header.readUInt16LE(0x38);
  const table = readAt(core, phoff, phnum * PHDR_SIZE);
  return Array.from({ length: phnum }, (_, i) => {
    const p = table.subarray(i * PHDR_SIZE);
    return { type: p.readUInt32LE(0), offset: Number(p.readBigUInt64LE(8)), vaddr: Number(p.readBigUInt64LE(16)), filesz: Number(p.readBigUInt64LE(32)) };
  });
}

/** Patches that rename `from` to `to` (same length, so the NT_FILE table keeps its shape) everywhere in the dump's notes. */
export function renameInNotes(core: string, from: string, to: string): Patch[] {
  if (from.length !== to.length) throw new Error(`renameInNotes: ${to} must be ${from.length} characters, as ${from}`);
  const needle = Buffer.from(from + "\0");
  const out: Patch[] = [];
  for (const s of segments(core).filter((x) => x.type === PT_NOTE)) {
    const notes = readAt(core, s.offset, s.filesz);
    for (let at = notes.indexOf(needle); at >= 0; at = notes.indexOf(needle, at + 1)) out.push({ offset: s.offset + at, hex: Buffer.from(to).toString("hex") });
  }
  if (out.length === 0) throw new Error(`renameInNotes: ${from} is not in the notes of ${core}`);
  return out;
}

/** Patches that overwrite target memory [address, address + length) with `byte`, where the dump holds it. */
export function fillMemory(core: string, address: number, length: number, byte = 0): Patch[] {
  const out: Patch[] = [];
  for (const s of segments(core).filter((x) => x.type === PT_LOAD)) {
    const start = Math.max(address, s.vaddr);
    const end = Math.min(address + length, s.vaddr + s.filesz);
    if (start < end) out.push({ offset: s.offset + (start - s.vaddr), hex: Buffer.alloc(end - start, byte).toString("hex") });
  }
  if (out.length === 0) throw new Error(`fillMemory: 0x${address.toString(16)} is not in ${core}`);
  return out;
}

/** An alterations file for altered-cli.js in `dir`. */
export function writeAlterations(dir: string, name: string, patches: Patch[]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ patches }));
  return file;
}
