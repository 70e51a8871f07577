// The thread's chain of explicit runtime Frames (Thread.Frame -> Frame.Next), the markers the
// runtime pushes at managed/native transitions. A Frame's first word is its identifier, named by
// the descriptor's `<FrameType>Identifier` globals (StackWalk contract, "Capital F Frame handling").
import type { RuntimeTarget } from "./target.js";
import { MAX_STACK_FRAMES } from "../../limits.js";
import { hex } from "../../hex.js";
import { warn } from "../../warnings.js";

export interface ExplicitFrame {
  address: number;
  /** e.g. "InlinedCallFrame", "DebuggerU2MCatchHandlerFrame"; "Frame" when the identifier is unknown. */
  name: string;
  /**
   * An InlinedCallFrame's CallerReturnAddress: where its method resumes after the P/Invoke; 0 when
   * the Frame is inactive (no call in progress). Absent for other Frames, or when the descriptor
   * does not publish the field.
   */
  callerReturnAddress?: number;
  /**
   * The method the Frame stands for (the DAC's Frame::GetFunction), where the descriptor says:
   * an InlinedCallFrame with an active call whose Datum is a MethodDesc (.NET 11 publishes Datum).
   */
  methodDesc?: number;
}

const IDENTIFIER_SUFFIX = "Identifier";

export class FrameChain {
  private names?: Map<number, string>;

  constructor(private readonly t: RuntimeTarget) {}

  frames(firstFrame: number): ExplicitFrame[] {
    const out: ExplicitFrame[] = [];
    const seen = new Set<number>();
    // The chain ends at FRAME_TOP (all bits set), which is no address: tryReadPointer-safe NaN checks stop it.
    for (let frame = firstFrame; frame > 0 && Number.isSafeInteger(frame) && !seen.has(frame) && out.length < MAX_STACK_FRAMES; ) {
      seen.add(frame);
      const identifier = this.t.memory.tryReadPointer(frame);
      const name = this.frameNames().get(identifier) ?? "Frame";
      const entry: ExplicitFrame = { address: frame, name };
      if (name === "InlinedCallFrame" && this.t.descriptor.hasField("InlinedCallFrame", "CallerReturnAddress")) {
        const ra = this.t.memory.tryReadPointer(this.t.at(frame, "InlinedCallFrame", "CallerReturnAddress"));
        if (!Number.isNaN(ra)) entry.callerReturnAddress = ra;
        else warn(`InlinedCallFrame ${hex(frame)}: its CallerReturnAddress is unreadable or no address (damaged Frame): the frame below it shows the unwound return address`);
      }
      if (name === "InlinedCallFrame") {
        const methodDesc = this.inlinedCallTarget(frame);
        if (methodDesc) entry.methodDesc = methodDesc;
      }
      out.push(entry);
      frame = this.t.memory.tryReadPointer(this.t.at(frame, "Frame", "Next"));
    }
    return out;
  }

  /**
   * An InlinedCallFrame's P/Invoke target: its Datum while the call is active (CallerReturnAddress
   * set), unless Datum's low bit marks it as something else than a MethodDesc (a calli cookie).
   */
  private inlinedCallTarget(frame: number): number | undefined {
    const t = this.t;
    if (!t.descriptor.hasField("InlinedCallFrame", "Datum")) return undefined;
    const active = t.memory.tryReadPointer(t.at(frame, "InlinedCallFrame", "CallerReturnAddress"));
    const datum = t.memory.tryReadPointer(t.at(frame, "InlinedCallFrame", "Datum"));
    if (!active || Number.isNaN(active) || !datum || Number.isNaN(datum) || datum % 2 === 1) return undefined;
    return datum;
  }

  private frameNames(): Map<number, string> {
    if (!this.names) {
      this.names = new Map();
      for (const [name, g] of this.t.descriptor.globals) {
        if (name.endsWith(IDENTIFIER_SUFFIX) && name.endsWith("Frame" + IDENTIFIER_SUFFIX) && g.value !== undefined && !g.indirect) {
          this.names.set(Number(g.value), name.slice(0, -IDENTIFIER_SUFFIX.length));
        }
      }
    }
    return this.names;
  }
}
