// Every cap on what a user or a dump can make clrscope produce or walk, in one place: a number
// that bounds output, memory or time for a user-sized request (`-c COUNT`) or a target-sized
// list (frames, strings). Bounds that only guard a parser against corrupt input (signature
// depth, table sizes, record lengths) stay beside the parser they protect.

/** Native stack walk: frames per thread when `bt` gives no `-c` (lldb and gdb stop near here too). */
export const MAX_NATIVE_FRAMES = 1024;

/** The runtime's explicit Frame chain of one thread (Thread.Frame -> Frame.Next). */
export const MAX_EXPLICIT_FRAMES = 100_000;

/** CFI rows cached by the unwinder before the cache is dropped (memory, not output). */
export const MAX_CACHED_CFI_ROWS = 100_000;

/** Symbol lookups (address -> module`symbol) cached per dump before the cache is dropped. */
export const MAX_CACHED_LOCATIONS = 1_000_000;

/** `memory read -c N -s S`: bytes read at once (lldb's default max is 1 KiB; a page dump needs more). */
export const MAX_MEMORY_READ_BYTES = 1 << 20;

/** `memory read -f s`: bytes of one C string before it is cut. */
export const MAX_C_STRING_BYTES = 4096;

/**
 * `disassemble -c N`: instructions at once. 100,000 take about a second and 150 MB; the
 * uncapped 100,000,000 took 25 s and 2.2 GB.
 */
export const MAX_DISASSEMBLE_INSTRUCTIONS = 100_000;

/** `disassemble` of a whole function: symbols larger than this are treated as unsized. */
export const MAX_FUNCTION_BYTES = 64 * 1024;

/** Methods (vtable slots, MethodDescs) listed for one type (`dumpmt -md`), whichever backend reads them. */
export const MAX_METHODS_PER_TYPE = 1 << 16;

/** A managed string's characters read for display (`do`, `dumpobj`). */
export const MAX_STRING_CHARS = 1 << 20;

/** An exception's message read for `pe`. */
export const MAX_EXCEPTION_MESSAGE_CHARS = 1 << 16;

/** `pstacks`: thread ids listed per stack before "..." (dotnet-dump shows 4; `-a` shows all). */
export const MAX_PSTACKS_THREAD_IDS = 4;

/** The REPL's history: lines kept in ~/.clrscope_history. */
export const MAX_HISTORY_LINES = 1000;

/** The REPL's history: bytes read from the end of the file at start (a huge file costs nothing). */
export const MAX_HISTORY_READ_BYTES = 256 * 1024;

/** The REPL's history: longer lines are not recorded (pasted blobs, not commands). */
export const MAX_HISTORY_LINE_CHARS = 1024;

/** `ps`: runtimes asked at once (each holds a socket open until it answers or times out). */
export const MAX_CONCURRENT_PROCESS_QUERIES = 64;

/** How far back from the end of libcoreclr's mapping its @(#)Version stamp is looked for (the file is about 7 MB). */
export const MAX_VERSION_STAMP_SCAN_BYTES = 64 << 20;

/** ISOSDacInterface answers the DAC host client keeps per session (a few hundred bytes each). */
export const MAX_KEPT_DAC_ANSWERS = 50_000;

/** Distinct mapped files listed as images by `modules` (NT_FILE of a real process holds a few hundred). */
export const MAX_DUMP_IMAGES = 100_000;

/** Threads walked in the thread store for one thread static's values (a corrupt list must not loop forever). */
export const MAX_THREAD_STATIC_THREADS = 65_536;

/** Frames of an exception's captured stack trace read at most (real ones hold hundreds). */
export const MAX_EXCEPTION_STACK_FRAMES = 100_000;

/** Bytes of one method's debug-info bounds table read at most (real ones are a few hundred). */
export const MAX_DEBUG_INFO_BYTES = 1 << 20;
