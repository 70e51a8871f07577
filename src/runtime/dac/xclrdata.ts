// Typed calls on the DAC's IXCLRData* interfaces (dotnet/runtime src/coreclr/inc/xclrdata.idl):
// the process's tasks, their stack walks, and each frame's arguments, locals and IL offsets, as
// SOS's ClrStack uses them. Slot numbers follow the IDL's method order after IUnknown's three.
import { ComPtr, S_OK, succeeded, wcharText, type HRESULT } from "./com.js";
import { CONTEXT_GPR_BASE, CONTEXT_GPRS, CONTEXT_SIZE } from "./data-target.js";
import { DacCallError } from "./sos-dac.js";
import type { Koffi } from "./koffi.js";
import { MAX_FRAME_VALUES, MAX_FRAME_VALUE_BYTES, MAX_IL_OFFSETS, MAX_STACK_FRAMES } from "../../limits.js";

/** HRESULT_FROM_WIN32(ERROR_BUFFER_OVERFLOW): IXCLRDataValue::GetBytes's answer to a zero-length buffer. */
const HRESULT_CODE_BUFFER_OVERFLOW = 111;

const PROCESS = { GetTaskByOSThreadID: 7, StartEnumMethodInstancesByAddress: 27, EnumMethodInstanceByAddress: 28, EndEnumMethodInstancesByAddress: 29 } as const;
const TASK = { CreateStackWalk: 11 } as const;
const STACK_WALK = { GetContext: 3, Next: 5, GetFrameType: 7, GetFrame: 8, Request: 9 } as const;
const FRAME = { GetNumArguments: 6, GetArgumentByIndex: 7, GetNumLocalVariables: 8, GetLocalVariableByIndex: 9, GetMethodInstance: 11 } as const;
const METHOD_INSTANCE = { GetTokenAndScope: 5, GetILOffsetsByAddress: 12 } as const;
const VALUE = { GetFlags: 3, GetBytes: 6, GetNumLocations: 28, GetLocationByIndex: 29 } as const;

/** CLRDataSimpleFrameType: every kind of frame (as SOS's ClrStack asks). */
const SIMPFRAME_ALL = 0x1 | 0x2 | 0x4 | 0x8;
/** DACSTACKPRIV_REQUEST_FRAME_DATA (dacprivate.h): DacpFrameData { CLRDATA_ADDRESS frameAddr }. */
const DACSTACKPRIV_REQUEST_FRAME_DATA = 0xf0000000;
/** AMD64 CONTEXT_FULL (control, integer, floating point). */
const CONTEXT_FULL = 0x100000 | 0x1 | 0x2 | 0x8;
const CONTEXT_RSP = CONTEXT_GPR_BASE + CONTEXT_GPRS.indexOf("rsp") * 8;
const CONTEXT_RIP = CONTEXT_GPR_BASE + CONTEXT_GPRS.indexOf("rip") * 8;
/** ClrDataValueLocationFlag. */
const CLRDATA_VLOC_REGISTER = 1;
/** Names longer than this are cut (SOS uses mdNameLen, 2048). */
const NAME_CHARS = 2048;

/** IUnknown::Release: the DAC allocates every task, walk, frame and value it hands out. */
function release(itf: ComPtr): void {
  itf.call(2, "uint32_t Release(void *self)");
}

/** An out-parameter interface pointer -> ComPtr (undefined when the call gave none). */
function outInterface(koffi: Koffi, hr: HRESULT, out: BigUint64Array): ComPtr | undefined {
  return succeeded(hr) && out[0]! !== 0n ? new ComPtr(koffi, out[0]!) : undefined;
}

/** Where a value lives: memory (its address) or a register (which one the DAC does not say). */
export type ValueLocation = { kind: "memory"; address: number } | { kind: "register" };

/** An argument or local as IXCLRDataValue describes it. */
export interface DacValue {
  /** Name the DAC gives (parameters: from metadata; locals: none). */
  name: string;
  /** The single location, when the value has exactly one (as SOS prints it). */
  location?: ValueLocation;
  /** The value's bytes, undefined when the DAC has none (`<no data>`: not live here, optimized away). */
  bytes?: Uint8Array;
  /** CLRDataValueFlag bits. */
  flags: number;
}

/** One frame of the DAC's stack walk. */
export interface DacStackFrame {
  sp: number;
  ip: number;
  /** The explicit runtime Frame's address (0 for a managed method's frame). */
  frameAddress: number;
  /** CLRDataSimpleFrameType. */
  simpleType: number;
  /** Arguments and locals, when asked for (managed frames only). */
  args?: DacValue[];
  locals?: DacValue[];
  /** IL offsets of `ip` (managed frames, when asked for); negative values are CLRDATA_IL_OFFSET markers. */
  ilOffsets?: number[];
  /** `ip - 1` mapped instead (SOS does so for all but the leaf frame, whose IP is a return address). */
  ilOffsetsBeforeIp?: number[];
  /** MethodDef token of the frame's method (managed frames). */
  methodToken?: number;
}

export interface StackWalkOptions {
  args?: boolean;
  locals?: boolean;
  ilOffsets?: boolean;
}

/** The DAC's IXCLRDataProcess, for stack walks. */
export class XclrDataProcess {
  constructor(
    private readonly koffi: Koffi,
    private readonly process: ComPtr,
  ) {}

  /**
   * The managed frames and explicit Frames of an OS thread, innermost first, as the DAC's own
   * stack walker (the one SOS's ClrStack uses) reports them; undefined when the thread is not
   * a managed thread.
   */
  stackWalk(osThreadId: number, options: StackWalkOptions = {}): DacStackFrame[] | undefined {
    const k = this.koffi;
    const out = new BigUint64Array(1);
    const hrTask = this.process.call(PROCESS.GetTaskByOSThreadID, "int GetTaskByOSThreadID(void *self, uint32_t id, void *task)", osThreadId, out);
    const task = hrTask === 0 ? outInterface(k, hrTask, out) : undefined;
    if (!task) return undefined;
    try {
      out[0] = 0n;
      const hrWalk = task.call(TASK.CreateStackWalk, "int CreateStackWalk(void *self, uint32_t flags, void *walk)", SIMPFRAME_ALL, out);
      const walk = outInterface(k, hrWalk, out);
      if (!walk) throw new DacCallError("CreateStackWalk", hrWalk, `thread ${osThreadId}`);
      try {
        return this.frames(walk, options);
      } finally {
        release(walk);
      }
    } finally {
      release(task);
    }
  }

  /**
   * The IL offsets the JIT mapped to a code address (IXCLRDataMethodInstance::GetILOffsetsByAddress
   * of the first method instance holding it), with the method's token: what SOS's ip2md maps to a
   * source line. Undefined when no method instance holds the address.
   */
  ilOffsetsAt(address: number): { methodToken: number; ilOffsets: number[] } | undefined {
    const k = this.koffi;
    const handle = new BigUint64Array(1);
    const hr = this.process.call(PROCESS.StartEnumMethodInstancesByAddress, "int StartEnumMethodInstancesByAddress(void *self, uint64_t addr, void *appDomain, void *handle)", BigInt(address), null, handle);
    if (!succeeded(hr) || hr !== 0) return undefined;
    try {
      const out = new BigUint64Array(1);
      const method = outInterface(k, this.process.call(PROCESS.EnumMethodInstanceByAddress, "int EnumMethodInstanceByAddress(void *self, void *handle, void *method)", handle, out), out);
      if (!method) return undefined;
      try {
        const token = new Uint32Array(1);
        const mod = new BigUint64Array(1);
        if (!succeeded(method.call(METHOD_INSTANCE.GetTokenAndScope, "int GetTokenAndScope(void *self, uint32_t *token, void *mod)", token, mod))) return undefined;
        if (mod[0]! !== 0n) release(new ComPtr(k, mod[0]!));
        const offsets = new Uint32Array(MAX_IL_OFFSETS);
        const needed = new Uint32Array(1);
        const r = method.call(METHOD_INSTANCE.GetILOffsetsByAddress, "int GetILOffsetsByAddress(void *self, uint64_t addr, uint32_t len, uint32_t *needed, uint32_t *offsets)", BigInt(address), MAX_IL_OFFSETS, needed, offsets);
        if (!succeeded(r)) return undefined;
        return { methodToken: token[0]!, ilOffsets: [...offsets.subarray(0, Math.min(needed[0]!, MAX_IL_OFFSETS))].map((x) => x | 0) };
      } finally {
        release(method);
      }
    } finally {
      this.process.call(PROCESS.EndEnumMethodInstancesByAddress, "int EndEnumMethodInstancesByAddress(void *self, uint64_t handle)", handle[0]!);
    }
  }

  private frames(walk: ComPtr, options: StackWalkOptions): DacStackFrame[] {
    const k = this.koffi;
    const frames: DacStackFrame[] = [];
    const context = Buffer.alloc(CONTEXT_SIZE);
    const frameData = new BigUint64Array(1);
    const types = new Uint32Array(2);
    const out = new BigUint64Array(1);
    for (let hr: HRESULT = S_OK; hr === S_OK && frames.length < MAX_STACK_FRAMES; hr = walk.call(STACK_WALK.Next, "int Next(void *self)")) {
      const hrCtx = walk.call(STACK_WALK.GetContext, "int GetContext(void *self, uint32_t flags, uint32_t size, uint32_t *needed, void *buf)", CONTEXT_FULL, CONTEXT_SIZE, null, context);
      if (hrCtx !== S_OK) break; // S_FALSE: the walk has no valid frame
      frameData[0] = 0n;
      const hrData = walk.call(STACK_WALK.Request, "int Request(void *self, uint32_t code, uint32_t inSize, void *inBuf, uint32_t outSize, void *outBuf)", DACSTACKPRIV_REQUEST_FRAME_DATA, 0, null, 8, frameData);
      types.fill(0);
      walk.call(STACK_WALK.GetFrameType, "int GetFrameType(void *self, uint32_t *simple, uint32_t *detailed)", types.subarray(0, 1), types.subarray(1, 2));
      const frame: DacStackFrame = {
        sp: Number(context.readBigUInt64LE(CONTEXT_RSP)),
        ip: Number(context.readBigUInt64LE(CONTEXT_RIP)),
        frameAddress: succeeded(hrData) ? Number(frameData[0]!) : 0,
        simpleType: types[0]!,
      };
      if (frame.frameAddress === 0 && (options.args || options.locals || options.ilOffsets)) {
        out[0] = 0n;
        const hrFrame = walk.call(STACK_WALK.GetFrame, "int GetFrame(void *self, void *frame)", out);
        const f = outInterface(k, hrFrame, out);
        if (f) {
          try {
            if (options.args) frame.args = this.values(f, "args");
            if (options.locals) frame.locals = this.values(f, "locals");
            if (options.ilOffsets) this.ilOffsets(f, frame, frames.length === 0);
          } finally {
            release(f);
          }
        }
      }
      frames.push(frame);
    }
    return frames;
  }

  private values(frame: ComPtr, which: "args" | "locals"): DacValue[] {
    const k = this.koffi;
    const count = new Uint32Array(1);
    const hrCount =
      which === "args"
        ? frame.call(FRAME.GetNumArguments, "int GetNumArguments(void *self, uint32_t *n)", count)
        : frame.call(FRAME.GetNumLocalVariables, "int GetNumLocalVariables(void *self, uint32_t *n)", count);
    if (!succeeded(hrCount)) return [];
    const out: DacValue[] = [];
    const name = Buffer.alloc(NAME_CHARS * 2);
    const nameLen = new Uint32Array(1);
    const ptr = new BigUint64Array(1);
    for (let i = 0; i < Math.min(count[0]!, MAX_FRAME_VALUES); i++) {
      name.fill(0);
      ptr[0] = 0n;
      const hr =
        which === "args"
          ? frame.call(FRAME.GetArgumentByIndex, "int GetArgumentByIndex(void *self, uint32_t i, void *value, uint32_t bufLen, uint32_t *nameLen, void *name)", i, ptr, NAME_CHARS, nameLen, name)
          : frame.call(FRAME.GetLocalVariableByIndex, "int GetLocalVariableByIndex(void *self, uint32_t i, void *value, uint32_t bufLen, uint32_t *nameLen, void *name)", i, ptr, NAME_CHARS, nameLen, name);
      const v = outInterface(k, hr, ptr);
      if (!v) break; // SOS stops at the first failure too
      try {
        out.push({ name: wcharText(name), ...this.value(v) });
      } finally {
        release(v);
      }
    }
    return out;
  }

  private value(v: ComPtr): Omit<DacValue, "name"> {
    const u32 = new Uint32Array(2);
    v.call(VALUE.GetFlags, "int GetFlags(void *self, uint32_t *flags)", u32.subarray(0, 1));
    const result: Omit<DacValue, "name"> = { flags: u32[0]! };
    u32.fill(0);
    if (succeeded(v.call(VALUE.GetNumLocations, "int GetNumLocations(void *self, uint32_t *n)", u32.subarray(0, 1))) && u32[0] === 1) {
      const addr = new BigUint64Array(1);
      if (succeeded(v.call(VALUE.GetLocationByIndex, "int GetLocationByIndex(void *self, uint32_t i, uint32_t *flags, uint64_t *addr)", 0, u32.subarray(1, 2), addr))) {
        result.location = u32[1] === CLRDATA_VLOC_REGISTER ? { kind: "register" } : { kind: "memory", address: Number(addr[0]!) };
      }
    }
    const size = new Uint32Array(1);
    const hr = v.call(VALUE.GetBytes, "int GetBytes(void *self, uint32_t bufLen, uint32_t *size, void *buf)", 0, size, null);
    // As SOS: only a "buffer too small" answer means there are bytes to read.
    if ((hr & 0xffff) === HRESULT_CODE_BUFFER_OVERFLOW && !succeeded(hr) && size[0]! > 0 && size[0]! <= MAX_FRAME_VALUE_BYTES) {
      const buf = Buffer.alloc(size[0]!);
      if (succeeded(v.call(VALUE.GetBytes, "int GetBytes(void *self, uint32_t bufLen, uint32_t *size, void *buf)", buf.length, size, buf))) {
        result.bytes = new Uint8Array(buf.subarray(0, Math.min(size[0]!, buf.length)));
      }
    }
    return result;
  }

  private ilOffsets(frame: ComPtr, into: DacStackFrame, isLeaf: boolean): void {
    const k = this.koffi;
    const out = new BigUint64Array(1);
    const hr = frame.call(FRAME.GetMethodInstance, "int GetMethodInstance(void *self, void *method)", out);
    const method = outInterface(k, hr, out);
    if (!method) return;
    try {
      const token = new Uint32Array(1);
      const mod = new BigUint64Array(1);
      if (succeeded(method.call(METHOD_INSTANCE.GetTokenAndScope, "int GetTokenAndScope(void *self, uint32_t *token, void *mod)", token, mod))) {
        into.methodToken = token[0]!;
        if (mod[0]! !== 0n) release(new ComPtr(k, mod[0]!));
      }
      const map = (address: number): number[] | undefined => {
        const offsets = new Uint32Array(MAX_IL_OFFSETS);
        const needed = new Uint32Array(1);
        const r = method.call(METHOD_INSTANCE.GetILOffsetsByAddress, "int GetILOffsetsByAddress(void *self, uint64_t addr, uint32_t len, uint32_t *needed, uint32_t *offsets)", BigInt(address), MAX_IL_OFFSETS, needed, offsets);
        return succeeded(r) ? [...offsets.subarray(0, Math.min(needed[0]!, MAX_IL_OFFSETS))].map((x) => x | 0) : undefined;
      };
      into.ilOffsets = map(into.ip);
      if (!isLeaf) into.ilOffsetsBeforeIp = map(into.ip - 1);
    } finally {
      release(method);
    }
  }
}

