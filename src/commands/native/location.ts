// How native code locations appear in results (JSON) and in text (lldb's module`symbol + off).
import type { Location, NativeFrame } from "../../native/process.js";
import { hexAddress } from "../command.js";

export interface LocationResult {
  module: string | null;
  symbol: string | null;
  offset: number | null;
}

export interface FrameResult extends LocationResult {
  index: number;
  ip: string;
  sp: string;
  trust: NativeFrame["trust"];
}

export function locationResult(loc: Location): LocationResult {
  return { module: loc.module?.name ?? null, symbol: loc.symbol ?? null, offset: loc.offset ?? null };
}

export function frameResult(f: NativeFrame): FrameResult {
  return { index: f.index, ip: hexAddress(f.ip), sp: hexAddress(f.sp), trust: f.trust, ...locationResult(f) };
}

/** lldb style: libc.so.6`read + 20; module + offset when there is no symbol; ??? outside modules. */
export function describeLocation(loc: LocationResult): string {
  if (loc.module === null) return "???";
  if (loc.symbol === null) return `${loc.module}\`+0x${(loc.offset ?? 0).toString(16)}`;
  return `${loc.module}\`${loc.symbol}${loc.offset ? ` + ${loc.offset}` : ""}`;
}
