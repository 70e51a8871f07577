// readCoreFile, AddressSpace and MappedFiles on synthetic cores (test/support/elf-writer.ts).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AddressSpace } from "../../src/dump/address-space.js";
import { BufferByteSource } from "../../src/dump/byte-source.js";
import { readCoreFile, type CoreFile } from "../../src/dump/elf-core.js";
import { parseNotes } from "../../src/dump/elf-format.js";
import { MappedFiles } from "../../src/dump/mapped-files.js";
import { describeFileLayout } from "../../src/dump/file-layout.js";
import { X86_64_USER_REGS, parseNtFile } from "../../src/dump/notes.js";
import { CorruptDataError, MemoryNotInDump, UnsupportedFormatError } from "../../src/errors.js";
import {
  EM_AARCH64, ET_DYN, PF_R, PF_W, PF_X, ntFile, pattern, patched, sampleCoreSpec, writeCore, writeCoreWithLayout, type CoreSpec,
} from "../support/elf-writer.js";

const PHDR = 56;

function open(bytes: Uint8Array, name = "test.core"): CoreFile {
  return readCoreFile(new BufferByteSource(bytes, name));
}

function u64le(value: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value, true);
  return b;
}

describe("readCoreFile on synthetic cores", () => {
  it("round-trips threads, tids and every register", () => {
    const registers = Object.fromEntries(X86_64_USER_REGS.map((r, i) => [r, 0x1111_0000_0000_0000n + BigInt(i) * 0x0101n]));
    registers.rip = 0xffff_ffff_ffff_fff0n; // full 64-bit values survive (registers are bigint)
    const core = open(
      writeCore({
        threads: [
          { tid: 100, signal: 6, ppid: 1, registers },
          { tid: 101, registers: { rsp: 0x7fff_0000n, rip: 0x40_1000 } },
          { tid: 102 },
        ],
      }),
    );
    assert.deepEqual(core.threads.map((t) => t.tid), [100, 101, 102]);
    assert.deepEqual(core.threads.map((t) => t.ordinal), [0, 1, 2]);
    const t0 = core.threads[0]!;
    assert.equal(t0.status.signal, 6);
    assert.equal(t0.status.pid, 100);
    assert.equal(t0.status.ppid, 1);
    X86_64_USER_REGS.forEach((name, i) => assert.equal(t0.status.regs[i], registers[name], name));
    const t1 = core.threads[1]!;
    assert.equal(t1.status.regs[X86_64_USER_REGS.indexOf("rsp")], 0x7fff_0000n);
    assert.equal(t1.status.regs[X86_64_USER_REGS.indexOf("rip")], 0x40_1000n);
    assert.equal(t1.status.regs[X86_64_USER_REGS.indexOf("rax")], 0n);
    assert.equal(t1.status.signal, 0);
    assert.deepEqual(core.warnings, []);
  });

  it("decodes prpsinfo", () => {
    const core = open(writeCore({ threads: [{ tid: 7 }], prpsinfo: { pid: 7, ppid: 3, uid: 1000, gid: 100, state: "S", fname: "myprog", args: "/opt/myprog -v  input.txt " } }));
    assert.ok(core.process);
    assert.equal(core.process.pid, 7);
    assert.equal(core.process.ppid, 3);
    assert.equal(core.process.uid, 1000);
    assert.equal(core.process.gid, 100);
    assert.equal(core.process.state, "S");
    assert.equal(core.process.fname, "myprog");
    assert.equal(core.process.args, "/opt/myprog -v  input.txt");
  });

  it("keeps a 15-byte fname and an 79-byte argument string without running past them", () => {
    const core = open(writeCore({ threads: [{ tid: 7 }], prpsinfo: { pid: 7, fname: "abcdefghijklmnopqrstuvwxyz", args: "x".repeat(200) } }));
    assert.equal(core.process?.fname, "abcdefghijklmno");
    assert.equal(core.process?.args, "x".repeat(79));
  });

  it("decodes the auxiliary vector (AT_NULL ends it; values past 2^53 are dropped)", () => {
    const core = open(
      writeCore({
        threads: [{ tid: 1 }],
        auxv: [[3, 0x5555_5555_4040], [5, 13], [16, 0xffff_ffff_ffff_ffffn], [33, 0x7fff_f7fc_1000], [0, 0], [9, 0x1234]],
      }),
    );
    assert.equal(core.auxv.get(3), 0x5555_5555_4040);
    assert.equal(core.auxv.get(5), 13);
    assert.equal(core.auxv.get(33), 0x7fff_f7fc_1000);
    assert.equal(core.auxv.has(16), false, "AT_HWCAP >= 2^53 is not a safe number and must not be rounded");
    assert.equal(core.auxv.has(9), false, "entries after AT_NULL are ignored");
  });

  it("decodes NT_FILE paths and byte offsets (page offset × page size)", () => {
    const files = [
      { start: 0x5555_5555_4000, end: 0x5555_5555_6000, pageOffset: 0, path: "/usr/bin/prog" },
      { start: 0x5555_5555_6000, end: 0x5555_5555_9000, pageOffset: 2, path: "/usr/bin/prog" },
      { start: 0x7fff_f7dc_0000, end: 0x7fff_f7de_0000, pageOffset: 0x1c3, path: "/usr/lib/x86_64-linux-gnu/libc.so.6" },
      { start: 0x7fff_f7fc_3000, end: 0x7fff_f7fc_5000, pageOffset: 1, path: "/tmp/dir with spaces/é.so" },
    ];
    const core = open(writeCore({ threads: [{ tid: 1 }], files }));
    assert.deepEqual(
      core.files,
      files.map((f) => ({ start: f.start, end: f.end, fileOffset: f.pageOffset * 4096, path: f.path })),
    );
    const big = open(writeCore({ threads: [{ tid: 1 }], files: [files[1]!], pageSize: 0x10000 }));
    assert.equal(big.files[0]!.fileOffset, 2 * 0x10000);
  });

  it("NT_FILE paths that are not valid UTF-8 do not shift the paths after them", () => {
    const desc = ntFile([
      { start: 0x1000, end: 0x2000, pageOffset: 0, path: "/a" },
      { start: 0x2000, end: 0x3000, pageOffset: 0, path: "/b" },
    ]);
    // Replace "a" with the single invalid byte 0xff.
    const at = 16 + 2 * 24 + 1;
    assert.equal(desc[at], "a".charCodeAt(0));
    desc[at] = 0xff;
    const files = parseNtFile(desc);
    assert.equal(files[1]!.path, "/b");
  });

  it("attaches SIGSEGV siginfo with the fault address to its thread", () => {
    const core = open(
      writeCore({
        threads: [
          { tid: 50, signal: 11, siginfo: { signo: 11, code: 1 /* SEGV_MAPERR */, address: 0x10 } },
          { tid: 51 },
          { tid: 52, signal: 15, siginfo: { signo: 15, code: 0 /* SI_USER */, senderPid: 999 } },
        ],
      }),
    );
    const [t0, t1, t2] = core.threads;
    assert.deepEqual(t0!.siginfo, { signo: 11, errno: 0, code: 1, address: 0x10 });
    assert.equal(t1!.siginfo, undefined);
    assert.deepEqual(t2!.siginfo, { signo: 15, errno: 0, code: 0, senderPid: 999 });
  });

  it("attaches NT_FPREGSET to the thread before it", () => {
    const xmm = pattern(256, 9);
    const core = open(writeCore({ threads: [{ tid: 1, fpregs: { mxcsr: 0x1fa0, fcw: 0x27f, xmm } }, { tid: 2 }] }));
    assert.equal(core.threads[0]!.fpregs?.mxcsr, 0x1fa0);
    assert.equal(core.threads[0]!.fpregs?.fcw, 0x27f);
    assert.deepEqual(core.threads[0]!.fpregs?.xmm, xmm);
    assert.equal(core.threads[1]!.fpregs, undefined);
  });

  it("keeps notes it does not decode", () => {
    const core = open(writeCore({ threads: [{ tid: 1 }], extraNotes: [{ name: "LINUX", type: 0x202, desc: new Uint8Array(20) }, { name: "GNU", type: 3, desc: new Uint8Array([1, 2, 3]) }] }));
    assert.deepEqual(core.otherNotes.map((n) => [n.name, n.type, n.desc.length]), [["LINUX", 0x202, 20], ["GNU", 3, 3]]);
  });

  it("resolves PN_XNUM from section header 0", () => {
    const spec: CoreSpec = {
      threads: [{ tid: 9 }],
      segments: Array.from({ length: 5 }, (_, i) => ({ vaddr: 0x10_0000 + i * 0x2000, bytes: pattern(64, i) })),
      pnXnum: true,
    };
    const { bytes, layout } = writeCoreWithLayout(spec);
    assert.equal(new DataView(bytes.buffer).getUint16(56, true), 0xffff);
    const core = open(bytes);
    assert.equal(core.header.phnum, layout.phnum);
    assert.equal(core.programHeaders.length, 6);
    assert.equal(core.segments.length, 5);
    assert.deepEqual(core.threads.map((t) => t.tid), [9]);
  });

  it("sorts segments by address and records what the file holds", () => {
    const core = open(
      writeCore({
        threads: [{ tid: 1 }],
        segments: [
          { vaddr: 0x7000, bytes: pattern(0x1000, 1), flags: PF_R },
          { vaddr: 0x1000, bytes: pattern(0x100, 2), memsz: 0x3000, flags: PF_R | PF_X },
          { vaddr: 0x4000, memsz: 0x1000, filesz: 0 },
          { vaddr: 0x9000, memsz: 0 }, // empty: not a segment
        ],
      }),
    );
    assert.deepEqual(
      core.segments.map((s) => ({ start: s.start, end: s.end, available: s.available, flags: s.flags })),
      [
        { start: 0x1000, end: 0x4000, available: 0x100, flags: PF_R | PF_X },
        { start: 0x4000, end: 0x5000, available: 0, flags: PF_R | PF_W },
        { start: 0x7000, end: 0x8000, available: 0x1000, flags: PF_R },
      ],
    );
    assert.deepEqual(core.warnings, []);
  });

  it("opens a core cut inside a memory segment, with a warning", () => {
    const { bytes, layout } = writeCoreWithLayout(sampleCoreSpec());
    const cut = layout.segmentOffsets[1]! + 0x80;
    const core = open(bytes.subarray(0, cut), "cut.core");
    assert.equal(core.warnings.length, 1);
    assert.match(core.warnings[0]!, /truncated/);
    assert.match(core.warnings[0]!, /cut\.core/);
    const seg = core.segments.find((s) => s.start === 0x7ffd0000_0000)!;
    assert.equal(seg.available, 0x80);
    const mem = new AddressSpace(core.source, core.segments);
    assert.deepEqual(mem.read(0x7ffd0000_0000, 0x80), pattern(0x300, 2).subarray(0, 0x80));
    assert.equal(mem.tryRead(0x7ffd0000_0000 + 0x7c, 8), undefined);
    assert.throws(() => mem.read(0x7ffd0000_0300, 1), MemoryNotInDump);
  });

  it("opens a core whose notes follow the memory (gdb gcore layout)", () => {
    const core = open(writeCore({ ...sampleCoreSpec(), notesLast: true }));
    assert.deepEqual(core.threads.map((t) => t.tid), [4242, 4243]);
    assert.equal(core.files.length, 1);
  });

  it("opens a core that holds the [vsyscall] page at 0xffffffffff600000 (gdb gcore writes it)", () => {
    const spec = sampleCoreSpec();
    spec.segments!.push({ vaddr: 0xffff_ffff_ff60_0000n, bytes: pattern(0x1000, 5), flags: PF_R | PF_X });
    const core = open(writeCore(spec));
    assert.deepEqual(core.threads.map((t) => t.tid), [4242, 4243]);
    // Not a safe JS number: skipped, never rounded into some other address.
    assert.deepEqual(core.segments.map((s) => s.start), [0x400000, 0x7ffd0000_0000, 0x7ffd0000_0300]);
    const mem = new AddressSpace(core.source, core.segments);
    assert.deepEqual(mem.read(0x7ffd0000_0000, 4), pattern(0x300, 2).subarray(0, 4));
  });

  it("a note whose name runs past the note segment is corrupt", () => {
    const b = new Uint8Array(12);
    new DataView(b.buffer).setUint32(0, 0xffff_fffd, true);
    assert.throws(() => parseNotes("notes", b), CorruptDataError);
  });

  it("rejects what is not an x86-64 little-endian 64-bit core", () => {
    const spec = sampleCoreSpec();
    assert.throws(() => open(new Uint8Array(0)), UnsupportedFormatError);
    assert.throws(() => open(new TextEncoder().encode("hello, world\n".repeat(10))), UnsupportedFormatError);
    assert.throws(() => open(writeCore({ ...spec, overrides: { elfClass: 1 } })), /32-bit/);
    assert.throws(() => open(writeCore({ ...spec, overrides: { elfData: 2 } })), /big-endian/);
    assert.throws(() => open(writeCore({ ...spec, overrides: { type: ET_DYN } })), UnsupportedFormatError);
    assert.throws(() => open(writeCore({ ...spec, overrides: { machine: EM_AARCH64 } })), UnsupportedFormatError);
  });

  it("reports damaged headers and notes as CorruptDataError", () => {
    const { bytes, layout } = writeCoreWithLayout(sampleCoreSpec());
    const corrupt = (b: Uint8Array) => assert.throws(() => open(b), CorruptDataError);
    corrupt(bytes.subarray(0, 40)); // inside the ELF header
    corrupt(bytes.subarray(0, layout.phoff + PHDR + 10)); // inside the program headers
    corrupt(bytes.subarray(0, layout.notesOffset + 30)); // inside the notes
    corrupt(patched(bytes, 56, 0xfffe, 2)); // e_phnum huge
    corrupt(patched(bytes, 56, 0, 2)); // no program headers
    corrupt(patched(bytes, layout.notes[0]!.offset + 4, 0x7fff_fff0, 4)); // descsz past the segment
    corrupt(patched(bytes, layout.notes[0]!.offset + 4, 100, 4)); // NT_PRSTATUS too short
    corrupt(writeCore({ ...sampleCoreSpec(), pnXnum: true, overrides: { xnumCount: 0x7fff_ffff } }));
    corrupt(writeCore({ threads: [] })); // no threads
  });
});

describe("AddressSpace", () => {
  const spec: CoreSpec = {
    threads: [{ tid: 1 }],
    segments: [
      { vaddr: 0x10_0000, bytes: pattern(0x1000, 1) },
      { vaddr: 0x10_1000, bytes: pattern(0x1000, 2) }, // adjacent to the first
      { vaddr: 0x20_0000, bytes: pattern(0x800, 3), memsz: 0x2000 }, // filesz < memsz
      { vaddr: 0x30_0000, bytes: new Uint8Array([...u64le(0x20_0000_0000_0000n), ...u64le(0x1f_ffff_ffff_ffffn), ...u64le(0xffff_ffff_ffff_ffffn)]) },
    ],
  };
  const core = open(writeCore(spec));
  const mem = new AddressSpace(core.source, core.segments);

  it("reads within one segment", () => {
    assert.deepEqual(mem.read(0x10_0010, 16), pattern(0x1000, 1).subarray(0x10, 0x20));
    assert.equal(mem.origin(0x10_0010), "dump");
  });

  it("reads across two adjacent segments", () => {
    const expected = new Uint8Array([...pattern(0x1000, 1).subarray(0xff8), ...pattern(0x1000, 2).subarray(0, 8)]);
    assert.deepEqual(mem.read(0x10_0ff8, 16), expected);
    assert.deepEqual(mem.tryRead(0x10_0000, 0x2000)!.subarray(0xfff, 0x1001), new Uint8Array([pattern(0x1000, 1)[0xfff]!, pattern(0x1000, 2)[0]!]));
  });

  it("fails (never zeros) where a segment's file bytes end before its memory does", () => {
    assert.deepEqual(mem.read(0x20_07f8, 8), pattern(0x800, 3).subarray(0x7f8));
    assert.equal(mem.tryRead(0x20_07f8, 9), undefined);
    assert.equal(mem.tryRead(0x20_0800, 1), undefined);
    assert.equal(mem.tryRead(0x20_1ff8, 8), undefined);
    assert.throws(() => mem.read(0x20_0800, 4), (e) => e instanceof MemoryNotInDump && e.address === 0x20_0800 && e.length === 4);
    assert.throws(() => mem.readU64(0x20_0ffc), MemoryNotInDump);
    assert.ok(Number.isNaN(mem.tryReadPointer(0x20_0800)));
    assert.equal(mem.origin(0x20_0800), "missing");
  });

  it("fails outside every segment", () => {
    for (const a of [0, 0xfff_ffff, 0x10_2000, 0x30_0018, Number.MAX_SAFE_INTEGER - 4]) {
      assert.equal(mem.tryRead(a, 4), undefined, a.toString(16));
      assert.throws(() => mem.read(a, 4), MemoryNotInDump);
    }
    assert.equal(mem.tryRead(-8, 8), undefined);
    assert.equal(mem.tryRead(NaN, 8), undefined);
  });

  it("huge or negative lengths fail cleanly instead of allocating", () => {
    for (const length of [2 ** 40, -1]) {
      assert.equal(mem.tryRead(0x10_0000, length), undefined, String(length));
      assert.throws(() => mem.read(0x10_0000, length), MemoryNotInDump);
    }
  });

  it("tryReadPointer is NaN for values of 2^53 and above, never rounded", () => {
    assert.ok(Number.isNaN(mem.tryReadPointer(0x30_0000)));
    assert.equal(mem.tryReadPointer(0x30_0008), Number.MAX_SAFE_INTEGER);
    assert.ok(Number.isNaN(mem.tryReadPointer(0x30_0010)));
    assert.equal(mem.readU64(0x30_0010), 0xffff_ffff_ffff_ffffn);
    assert.equal(mem.readU64(0x30_0000), 0x20_0000_0000_0000n);
  });
});

describe("MappedFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "clrscope-mapped-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const PAGE = 4096;
  const base = 0x5555_0000_0000;

  /** A core whose NT_FILE maps `path` at `base` for 3 pages; the dump holds only the first page. */
  function coreMapping(path: string, firstPage: Uint8Array): { core: CoreFile; mem: AddressSpace; files: MappedFiles } {
    const core = open(
      writeCore({
        threads: [{ tid: 1 }],
        files: [{ start: base, end: base + 3 * PAGE, pageOffset: 0, path }],
        segments: [{ vaddr: base, bytes: firstPage, memsz: 3 * PAGE }],
      }),
    );
    const dumpOnly = new AddressSpace(core.source, core.segments);
    const files = new MappedFiles(core.files, (a, l) => dumpOnly.tryRead(a, l));
    return { core, mem: new AddressSpace(core.source, core.segments, files), files };
  }

  it("serves missing pages from a file whose first page matches the dump (verified)", () => {
    // A real ELF: the pages read below lie in its read-only segments, which the process cannot
    // have changed (a writable page is refused: see the next test).
    const content = new Uint8Array(readFileSync("/usr/bin/true").subarray(0, 3 * PAGE));
    const path = join(dir, "good.so");
    writeFileSync(path, content);
    const { mem, files } = coreMapping(path, content.subarray(0, PAGE));
    try {
      assert.deepEqual(mem.read(base + PAGE + 16, 32), content.subarray(PAGE + 16, PAGE + 48));
      assert.equal(mem.origin(base + PAGE), "file");
      assert.equal(mem.origin(base), "dump");
      // A read spanning the dump's page and the file's next page.
      assert.deepEqual(mem.read(base + PAGE - 4, 8), content.subarray(PAGE - 4, PAGE + 4));
      assert.equal(files.info(path).status, "verified");
      assert.equal(files.info(path).resolvedPath, path);
      // Past the mapping's end: still missing.
      assert.equal(mem.tryRead(base + 3 * PAGE, 1), undefined);
    } finally {
      files.close();
    }
  });

  /**
   * A PE file as crossgen2 lays one out: headers, .text (read-only) at VA 0x2400 from file offset
   * 0x400 (VA and offset agree modulo the page, so the loader can map it), .data (writable) after.
   */
  function peFile(textVa = 0x2400): Buffer {
    // Bytes past the sections (debug data) too, so that no mapping here could be the whole file mapped flat.
    const f = Buffer.alloc(0x2200);
    for (let i = 0; i < f.length; i++) f[i] = (i * 7 + 3) & 0xff;
    f.write("MZ", 0, "latin1");
    f.writeUInt32LE(0x40, 60);
    f.write("PE\0\0", 0x40, "latin1");
    f.writeUInt16LE(0x8664, 0x44);
    f.writeUInt16LE(2, 0x46); // sections
    f.writeUInt32LE(0x5eed1234, 0x48); // timestamp
    f.writeUInt16LE(240, 0x54); // optional header size
    const opt = 0x58;
    f.writeUInt32LE(0x5000, opt + 56); // SizeOfImage
    f.writeUInt32LE(0x400, opt + 60); // SizeOfHeaders
    const sections = opt + 240;
    const section = (i: number, va: number, vsize: number, raw: number, rawSize: number, flags: number) => {
      const o = sections + i * 40;
      f.fill(0, o, o + 40);
      f.writeUInt32LE(vsize, o + 8);
      f.writeUInt32LE(va, o + 12);
      f.writeUInt32LE(rawSize, o + 16);
      f.writeUInt32LE(raw, o + 20);
      f.writeUInt32LE(flags, o + 36);
    };
    section(0, textVa, 0x1000, 0x400, 0x1000, 0x60000020);
    section(1, 0x4400, 0x200, 0x1400, 0x200, 0xc0000040);
    return f;
  }

  /** The file mapped as an image the way the runtime's loader does it (headers at base, each section at base + VA, page-rounded down with its file offset); the dump holds none of it (gcore). */
  function peImageMapping(path: string): { mem: AddressSpace; files: MappedFiles } {
    const core = open(
      writeCore({
        threads: [{ tid: 1 }],
        files: [
          { start: base, end: base + PAGE, pageOffset: 0, path },
          { start: base + 0x2000, end: base + 0x4000, pageOffset: 0, path },
          { start: base + 0x4000, end: base + 0x5000, pageOffset: 1, path },
        ],
        segments: [{ vaddr: base + 0x10000, bytes: new Uint8Array(16), memsz: PAGE }],
      }),
    );
    const dumpOnly = new AddressSpace(core.source, core.segments);
    const files = new MappedFiles(core.files, (a, l) => dumpOnly.tryRead(a, l));
    return { mem: new AddressSpace(core.source, core.segments, files), files };
  }

  it("serves a PE image's read-only sections when the dump holds no header but its size and sections fit (matched)", () => {
    const content = peFile();
    const path = join(dir, "image.dll");
    writeFileSync(path, content);
    const { mem, files } = peImageMapping(path);
    try {
      assert.deepEqual(mem.read(base + 0x2400 + 16, 32), new Uint8Array(content.subarray(0x400 + 16, 0x400 + 48)), ".text at VA 0x2400 from file offset 0x400");
      assert.equal(files.info(path).status, "matched");
      assert.equal(mem.tryRead(base + 0x4400, 8), undefined, ".data is writable: never served as it is in the file");
    } finally {
      files.close();
    }
  });

  it("refuses a PE file whose sections do not fit the image's mappings (mismatch, with the reason)", () => {
    const path = join(dir, "moved.dll");
    writeFileSync(path, peFile(0x3400)); // .text moved: the mapping at base + 0x2000 is no longer it
    const { mem, files } = peImageMapping(path);
    try {
      assert.equal(mem.tryRead(base + 0x2400, 8), undefined);
      assert.equal(files.info(path).status, "mismatch");
      assert.match(files.info(path).reason ?? "", /moved\.dll \(8704 bytes, SizeOfImage 0x5000\) does not fit its mapping at 0x[0-9a-f]+ \(file offset 0x0, 0x2000 bytes\)/);
    } finally {
      files.close();
    }
  });

  it("never serves writable pages as they are in the file; RELRO and, on request, .data come relocated", () => {
    const libc = readFileSync(realpathSync("/lib/x86_64-linux-gnu/libc.so.6"));
    const layout = describeFileLayout(new BufferByteSource(libc));
    assert.ok(layout.relocationsKnown && layout.relro.length > 0 && layout.writable.length > 0);
    const path = join(dir, "libc-copy.so");
    writeFileSync(path, libc);
    // Map the whole file flat at `base` (address = base + file offset, load bias = base).
    const size = Math.ceil(libc.length / PAGE) * PAGE;
    const core = open(writeCore({ threads: [{ tid: 1 }], files: [{ start: base, end: base + size, pageOffset: 0, path }], segments: [{ vaddr: base, bytes: libc.subarray(0, PAGE), memsz: size }] }));
    const dumpOnly = new AddressSpace(core.source, core.segments);
    const files = new MappedFiles(core.files, (a, l) => dumpOnly.tryRead(a, l));
    const mem = new AddressSpace(core.source, core.segments, files);
    try {
      const inRange = (ranges: { start: number; end: number }[], o: number) => ranges.some((r) => o >= r.start && o + 8 <= r.end);
      const offsets = [...layout.relativeOffsets];
      const relro = offsets.findIndex((o) => inRange(layout.relro, o));
      const data = offsets.findIndex((o) => inRange(layout.writable, o) && !inRange(layout.relro, o));
      assert.ok(relro >= 0 && data >= 0, "libc has RELATIVE relocations in RELRO and in .data");
      const expect = (i: number) => BigInt(base + layout.relativeAddends[i]!);
      assert.equal(mem.readU64(base + offsets[relro]!), expect(relro), "RELRO word served relocated");
      assert.equal(mem.tryRead(base + offsets[data]!, 8), undefined, ".data is never served as-is");
      const asLoaded = mem.tryReadAsLoaded(base + offsets[data]!, 8)!;
      assert.equal(new DataView(asLoaded.buffer, asLoaded.byteOffset, 8).getBigUint64(0, true), expect(data), ".data as loaded is relocated");
    } finally {
      files.close();
    }
  });

  it("refuses a file whose first page differs from the dump (mismatch)", () => {
    const content = pattern(3 * PAGE, 12);
    const path = join(dir, "changed.so");
    writeFileSync(path, content);
    const inDump = content.slice(0, PAGE);
    inDump[100] = inDump[100]! ^ 0xff; // the file on disk was rebuilt since
    const { mem, files } = coreMapping(path, inDump);
    try {
      assert.equal(mem.tryRead(base + PAGE, 8), undefined);
      assert.throws(() => mem.read(base + PAGE, 8), MemoryNotInDump);
      assert.equal(mem.origin(base + PAGE), "missing");
      assert.equal(files.info(path).status, "mismatch");
    } finally {
      files.close();
    }
  });

  it("reports a mapped file that no longer exists (missing)", () => {
    const path = join(dir, "gone.so");
    const { mem, files } = coreMapping(path, pattern(PAGE, 13));
    assert.equal(mem.tryRead(base + PAGE, 8), undefined);
    assert.equal(files.info(path).status, "missing");
    assert.deepEqual(files.describe(), [{ path, status: "missing", reason: "no such file on disk" }]);
    assert.ok(Number.isNaN(mem.tryReadPointer(base + 2 * PAGE)));
  });
});
