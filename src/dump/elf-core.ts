// An ELF core file: header, program headers and notes, decoded once at open. Memory segments
// are only indexed here; their bytes are read lazily through AddressSpace.
import { CorruptDataError, UnsupportedFormatError } from "../errors.js";
import type { ByteSource } from "./byte-source.js";
import {
  EM_X86_64, ELF_HEADER_SIZE, ET_CORE, PHDR_SIZE, PT_LOAD, PT_NOTE,
  elfTypeName, parseElfHeader, parseNotes, parseProgramHeaders, type ElfHeader, type Note, type ProgramHeader,
} from "./elf-format.js";
import {
  NT_AUXV, NT_FILE, NT_FPREGSET, NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO,
  parseAuxv, parseFpRegs, parseNtFile, parsePrPsInfo, parsePrStatus, parseSigInfo,
  type FileMapping, type FpRegs, type PrPsInfo, type PrStatus, type SigInfo,
} from "./notes.js";
import { MAX_NOTES_BYTES } from "../limits.js";

export interface CoreThread {
  /** Position in the dump (0-based); the kernel writes the signalled thread first. */
  ordinal: number;
  tid: number;
  status: PrStatus;
  fpregs?: FpRegs;
  siginfo?: SigInfo;
}

/** A memory segment of the dump. `available` bytes are in the file; the rest is not. */
export interface MemorySegment {
  start: number;
  end: number;
  fileOffset: number;
  /** Bytes of this segment actually present in the file (< end-start if filesz was 0 or the file is cut short). */
  available: number;
  flags: number;
}

export interface CoreFile {
  source: ByteSource;
  header: ElfHeader;
  programHeaders: ProgramHeader[];
  segments: MemorySegment[];
  threads: CoreThread[];
  process?: PrPsInfo;
  auxv: Map<number, number>;
  files: FileMapping[];
  /** Notes clrscope does not decode, kept for `runtime`/debug output. */
  otherNotes: Note[];
  /** Problems that did not stop the open (e.g. memory cut off by truncation). */
  warnings: string[];
}


export function readCoreFile(source: ByteSource): CoreFile {
  const name = source.name;
  const header = parseElfHeader(name, source.read(0, ELF_HEADER_SIZE), (o, l) => source.read(o, l));
  if (header.type !== ET_CORE) {
    throw new UnsupportedFormatError(`${name} is an ELF ${elfTypeName(header.type)}, not a core dump (pass the dump; give the program with --exe)`);
  }
  if (header.machine !== EM_X86_64) {
    throw new UnsupportedFormatError(`${name} is a core dump for ELF machine ${header.machine}; clrscope supports x86-64 (machine 62) so far`);
  }
  const tableSize = header.phnum * PHDR_SIZE;
  if (header.phnum === 0) throw new CorruptDataError(`${name}: core dump has no program headers`);
  if (header.phoff + tableSize > source.size) {
    throw new CorruptDataError(`${name}: ${header.phnum} program headers at offset ${header.phoff} run past the end of the ${source.size}-byte file (truncated or corrupt dump)`);
  }
  const programHeaders = parseProgramHeaders(name, header, source.read(header.phoff, tableSize));

  const warnings: string[] = [];
  const segments: MemorySegment[] = [];
  let missingBytes = 0;
  for (const ph of programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0 || Number.isNaN(ph.vaddr)) continue;
    const inFile = Math.max(0, Math.min(ph.filesz, source.size - ph.offset));
    if (inFile < ph.filesz) missingBytes += ph.filesz - inFile;
    segments.push({ start: ph.vaddr, end: ph.vaddr + ph.memsz, fileOffset: ph.offset, available: Math.min(inFile, ph.memsz), flags: ph.flags });
  }
  segments.sort((a, b) => a.start - b.start);
  if (missingBytes > 0) {
    warnings.push(`${name} is truncated: ${missingBytes} bytes of memory segments lie past its end (${source.size} bytes); reads there will fail`);
  }

  const core: CoreFile = { source, header, programHeaders, segments, threads: [], auxv: new Map(), files: [], otherNotes: [], warnings };
  for (const ph of programHeaders) {
    if (ph.type !== PT_NOTE) continue;
    if (ph.filesz > MAX_NOTES_BYTES) throw new CorruptDataError(`${name}: note segment claims ${ph.filesz} bytes (corrupt program header)`);
    if (ph.offset + ph.filesz > source.size) {
      throw new CorruptDataError(`${name}: note segment (${ph.filesz} bytes at offset ${ph.offset}) runs past the end of the ${source.size}-byte file (truncated dump)`);
    }
    decodeNotes(core, parseNotes(`${name} notes`, source.read(ph.offset, ph.filesz)));
  }
  if (core.threads.length === 0) throw new CorruptDataError(`${name}: core dump has no thread (NT_PRSTATUS) notes`);
  // Zeroed or garbled note headers decode as nameless notes; a thread's tid is never 0 or negative.
  const nameless = core.otherNotes.filter((n) => n.name === "").length;
  if (nameless > 0) warnings.push(`${name}: ${nameless} notes have no owner name (damaged notes): threads, mapped files or other process data may be missing`);
  for (const t of core.threads) if (t.tid <= 0) warnings.push(`${name}: thread #${t.ordinal + 1} has the impossible thread id ${t.tid} (damaged notes)`);
  // A process's core (it has an auxiliary vector) always lists its mapped files: none means the
  // NT_FILE note is lost (damaged notes), and with it the modules.
  if (core.files.length === 0 && core.auxv.size > 0) warnings.push(`${name} has no NT_FILE note (damaged notes?): the process's modules, the .NET runtime among them, may be missing`);
  // The kernel names every mapping it lists: nameless ones mean a damaged NT_FILE, whose modules are then unknown.
  const pathless = core.files.filter((f) => f.path === "").length;
  if (pathless > 0) warnings.push(`${name}: the NT_FILE note is damaged (${pathless} of ${core.files.length} mapped files have no path): modules, the .NET runtime among them, may be missing`);
  return core;
}

function decodeNotes(core: CoreFile, notes: Note[]): void {
  let current: CoreThread | undefined;
  for (const note of notes) {
    if (note.name === "CORE") {
      switch (note.type) {
        case NT_PRSTATUS: {
          const status = parsePrStatus(note.desc);
          current = { ordinal: core.threads.length, tid: status.pid, status };
          core.threads.push(current);
          continue;
        }
        case NT_FPREGSET:
          if (current) current.fpregs = parseFpRegs(note.desc);
          continue;
        case NT_PRPSINFO:
          core.process = parsePrPsInfo(note.desc);
          continue;
        case NT_AUXV:
          core.auxv = parseAuxv(note.desc);
          continue;
        case NT_FILE:
          core.files = parseNtFile(note.desc);
          continue;
        case NT_SIGINFO:
          // Per-thread in kernel and gdb cores (follows that thread's NT_PRSTATUS).
          if (current) current.siginfo = parseSigInfo(note.desc);
          continue;
      }
    }
    core.otherNotes.push(note);
  }
}
