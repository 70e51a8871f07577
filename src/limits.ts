// Every cap in one place: the numbers that bound output, memory or time for a user-sized request
// (`-c COUNT`) or a target-sized list (frames, strings), and those that guard a parser or a walk
// against corrupt input (signature depth, table sizes, chain lengths).

/**
 * Frames of one thread's stack, whoever walks it: the native unwinder (when `bt` gives no `-c`),
 * the runtime's explicit Frame chain (Thread.Frame -> Frame.Next) and the DAC's stack walk.
 */
export const MAX_STACK_FRAMES = 10_000;

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

/** Nesting of try/catch/finally blocks shown by the IL disassembler (deeper is damage). */
export const MAX_IL_PRETTY_DEPTH = 64;

/** Sequence points of one method, at most (a corrupt blob must not run away). */
export const MAX_SEQUENCE_POINTS = 1 << 20;

/** Data directories of a PE optional header (the format defines 16). */
export const MAX_DATA_DIRECTORIES = 16;

/** A CodeView record holds a path; anything longer than this is damage, not a path. */
export const MAX_CODEVIEW = 0x1_0000;

/** Nesting of a metadata signature (generic instantiations, arrays of arrays) before it is damage. */
export const MAX_SIGNATURE_DEPTH = 256;

/** Rank of an array in a signature (the runtime allows 32; more is damage). */
export const MAX_ARRAY_RANK = 1024;

/**
 * TypeSpecs can refer to TypeSpecs: names are expanded within a budget of expansions so that a
 * damaged image cannot make a name exponentially long (or infinitely, through a cycle).
 */
export const MAX_SIGNATURE_EXPANSION = 10_000;

/** Nesting of type names built from metadata (enclosing types, type arguments). */
export const MAX_TYPE_NAME_NESTING = 64;

/** Embedded PDBs larger than this (compressed or not) are not read. */
export const MAX_EMBEDDED_PDB = 64 << 20;

/** Nesting of runtime types named through TypeHandles (instantiations of instantiations). */
export const MAX_RUNTIME_TYPE_NESTING = 64;

/** Fields of one type are at most this many (a corrupt chain must not loop forever). */
export const MAX_FIELDS_PER_TYPE = 65536;

/** Parent chains (System.Object is reached long before). */
export const MAX_PARENT_TYPES = 256;

/** Entries read from one module's table of constructed types (EETypeHashTable: arrays, generic instantiations). */
export const MAX_TYPE_HASH_ENTRIES = 1 << 20;

/** Nested value-type fields are expanded this deep. */
export const MAX_STRUCT_DEPTH = 4;

/** A reply larger than this is a broken host, not an answer (the largest, a 10,000-frame walk with values, is a few MB). */
export const MAX_DAC_HOST_MESSAGE_BYTES = 256 * 1024 * 1024;

/** GetTieredVersions fills at most this many entries (SOS asks for kcMaxTieredVersions). */
export const MAX_TIERED_VERSIONS = 64;

/** Bytes of a value read at most (arguments and locals are at most a few machine words, or a struct). */
export const MAX_FRAME_VALUE_BYTES = 1 << 16;

/** Arguments or locals of one frame, at most (a method has at most 65535 of each). */
export const MAX_FRAME_VALUES = 65535;

/** IL offsets one native address can map to, at most. */
export const MAX_IL_OFFSETS = 64;

/** More runtime threads than this means a corrupt list (real processes have thousands at most). */
export const MAX_THREADS = 1 << 20;

/** MethodDescChunks of one type walked at most. */
export const MAX_METHOD_DESC_CHUNKS = 1 << 16;

/** Type arguments of one instantiation read at most. */
export const MAX_TYPE_ARGS = 1024;

/** A dynamic method's stored name, bytes read at most. */
export const MAX_DYNAMIC_METHOD_NAME_BYTES = 4096;

/** A dynamic method's stored signature, bytes read at most. */
export const MAX_STORED_SIG_BYTES = 1 << 16;

/** RUNTIME_FUNCTIONs of one method (its body and funclets) read at most. */
export const MAX_FUNCLETS = 1024;

/** Runtime functions searched linearly beyond this many are a sign of corruption. */
export const MAX_RUNTIME_FUNCTIONS = 1 << 22;

/** Upper bounds against damaged lists and maps (a real process has far fewer). */
export const MAX_ASSEMBLIES = 1 << 20;

/** Segments of one module lookup map (TypeDefToMethodTable, ...) walked at most. */
export const MAX_MAP_SEGMENTS = 1 << 16;

/** Entries of one module lookup map read at most. */
export const MAX_MAP_ENTRIES = 1 << 24;

/** The data-contract descriptor's JSON, bytes at most. */
export const MAX_DESCRIPTOR_JSON_BYTES = 16 << 20;

/** The descriptor's pointer data (indirect globals), entries at most. */
export const MAX_DESCRIPTOR_POINTERS = 1 << 16;

/** Sub-descriptors nested within descriptors, at most. */
export const MAX_SUB_DESCRIPTOR_DEPTH = 4;

/** Version lists longer than this are corrupt (a method is rejitted or re-tiered a handful of times). */
export const MAX_CODE_VERSIONS = 4096;

/** Base relocations of one PE image applied at most. */
export const MAX_PE_RELOCATIONS = 1 << 24;

/** Largest note segment we accept: notes are KBs per thread; 256 MiB means a corrupt header. */
export const MAX_NOTES_BYTES = 256 << 20;

/** Row ids of a metadata table (24 bits by the format). */
export const MAX_METADATA_RID = 0xffffff;

/** UTF-16 strings read from the target (names, paths), characters at most. */
export const MAX_UTF16_CHARS = 32 * 1024;

/** Bounds of --timeout and --stall-timeout, in seconds: a day is more than any dump takes. */
export const MAX_COLLECT_WAIT_SECS = 86_400;

/** Operations of one DWARF expression evaluated at most (loops are damage). */
export const MAX_DWARF_EXPRESSION_STEPS = 10_000;

/** Chained Windows unwind infos followed at most. */
export const MAX_UNWIND_INFO_CHAIN = 32;

/** Entries of an ELF image's dynamic section read at most. */
export const MAX_DYNAMIC_ENTRIES = 4096;

/** Dynamic symbols of one ELF image read at most. */
export const MAX_DYNSYMS = 1 << 20;

/** Entries of the dynamic linker's link map walked at most. */
export const MAX_LINK_MAP_ENTRIES = 10_000;

/** Upper bound on one CIE/FDE record; real ones are tens to hundreds of bytes. */
export const MAX_CFI_RECORD_BYTES = 1 << 20;

/** A string token of a DynamicMethod's IL: characters shown (SOS's StringObjectContent(..., 40)). */
export const MAX_DYNAMIC_IL_STRING_CHARS = 40;
/** A DynamicMethod's IL: bytes read at most (a larger m_code array is damaged or not IL). */
export const MAX_DYNAMIC_IL_BYTES = 1 << 20;
