// CodeVersions contract, version 1 (dotnet/runtime docs/design/datacontracts/CodeVersions.md) and
// the rejit ids of ReJIT 1: a method's IL code versions (the synthetic default one plus the
// ILCodeVersionNodes of its ILCodeVersioningState) and, for each, its native code versions (the
// synthetic one whose code is the MethodDesc's native code slot, plus the NativeCodeVersionNodes
// of its MethodDescVersioningState), which one is active, and where their code and IL are.
import { ClrscopeError, CorruptDataError } from "../../errors.js";
import { MetadataReader } from "../../metadata/metadata.js";
import { MissingRuntimeDataError } from "./descriptor.js";
import type { Loader } from "./loader.js";
import type { RuntimeTypeSystemDetails } from "./runtime-type-system.js";
import type { RuntimeTarget } from "./target.js";
import { MAX_CODE_VERSIONS } from "../../limits.js";
import { T, token, tokenRid } from "../../metadata/tables.js";

/** SOS's names for DacpTieredVersionData::OptimizationTier (util.cpp DumpTieredNativeCodeAddressInfo). */
export type OptimizationTier =
  | "MinOptJitted"
  | "Optimized"
  | "QuickJitted"
  | "OptimizedTier1"
  | "OptimizedTier1OSR"
  | "ReadyToRun"
  | "QuickJitted + Instrumented"
  | "OptimizedTier1 + Instrumented"
  | "Unknown Tier";

/** The runtime's NativeCodeVersion::OptimizationTier values (codeversion.h), as SOS names them. */
const NATIVE_TIERS: readonly OptimizationTier[] = [
  "QuickJitted", // OptimizationTier0
  "OptimizedTier1",
  "OptimizedTier1OSR",
  "Optimized", // OptimizationTierOptimized
  "QuickJitted + Instrumented",
  "OptimizedTier1 + Instrumented",
];

/** MethodDescVersioningStateFlags.IsDefaultVersionActiveChildFlag. */
const DEFAULT_VERSION_ACTIVE = 0x4;
/** NativeCodeVersionNodeFlags.IsActiveChild. */
const NODE_IS_ACTIVE_CHILD = 0x1;
/** ILCodeVersionKind.Explicit: ActiveVersionNode is set (Synthetic: module and token are). */
const IL_KIND_EXPLICIT = 1;

export interface NativeCodeVersion {
  /** The NativeCodeVersionNode; 0 for the synthetic (default) version. */
  node: number;
  /** Start of its code (0 when not compiled yet). */
  nativeCode: number;
  isActive: boolean;
  /** The optimization tier, when the runtime publishes it (NativeCodeVersionNode.OptimizationTier). */
  tier?: OptimizationTier;
}

export interface ILCodeVersion {
  /** The ILCodeVersionNode; 0 for the synthetic (default) version. */
  node: number;
  /** ReJIT id (ILCodeVersionNode.VersionId; 0 for the default version). */
  rejitId: number;
  /** ILCodeVersionNode.RejitState (ReJIT RejitFlags); undefined for the default version. */
  rejitState?: number;
  /** Address of the IL (the method body header); undefined when the runtime does not publish it. */
  ilAddress?: number;
  isActive: boolean;
  /** Its native code versions in the runtime's iteration order (the synthetic one first, then the list's). */
  nativeVersions: NativeCodeVersion[];
}

export interface MethodCodeVersions {
  methodDesc: number;
  /** Every IL code version (the synthetic one first). */
  ilVersions: ILCodeVersion[];
  /** The active IL version's active native code version, if it has one. */
  activeNativeVersion?: NativeCodeVersion;
  /** What the descriptor does not publish, so that some values above are missing. */
  missing: string[];
}

export class CodeVersions {
  /** Metadata of each module, for its methods' default IL (null: the image is not in memory). */
  private readonly metadata = new Map<number, MetadataReader | null>();

  constructor(
    private readonly t: RuntimeTarget,
    private readonly typeSystem: RuntimeTypeSystemDetails,
    private readonly loader: Loader,
  ) {}

  /** All code versions of the method at `methodDesc` (CodeVersions GetILCodeVersions + GetNativeCodeVersions). */
  versions(methodDesc: number): MethodCodeVersions {
    const t = this.t;
    const d = t.descriptor;
    if (d.contractVersion("CodeVersions") === undefined) throw new MissingRuntimeDataError("this runtime publishes no CodeVersions contract, so code versions cannot be read");
    const missing: string[] = [];
    const md = this.typeSystem.methodDescDetails(methodDesc);
    const module = t.pointerField(md.methodTable, "MethodTable", "Module");
    const rid = tokenRid(md.token);

    const nodes = this.nativeCodeVersionNodes(methodDesc, missing);
    const defaultActive = nodes.versioningState === 0 || (t.u8(t.at(nodes.versioningState, "MethodDescVersioningState", "Flags")) & DEFAULT_VERSION_ACTIVE) !== 0;
    const nodeTier = d.hasField("NativeCodeVersionNode", "OptimizationTier");
    if (!nodeTier && nodes.list.length > 0) missing.push("NativeCodeVersionNode.OptimizationTier");
    const nativeOf = (ilVersionId: number, synthetic: boolean): NativeCodeVersion[] => {
      const out: NativeCodeVersion[] = [];
      if (synthetic) out.push({ node: 0, nativeCode: md.nativeCode, isActive: defaultActive, tier: this.defaultTier(md.address, missing) });
      for (const n of nodes.list) {
        if (n.ilVersionId !== ilVersionId) continue;
        out.push({
          node: n.node,
          nativeCode: n.nativeCode,
          isActive: (n.flags & NODE_IS_ACTIVE_CHILD) !== 0,
          tier: nodeTier ? tierName(t.u32(t.at(n.node, "NativeCodeVersionNode", "OptimizationTier"))) : undefined,
        });
      }
      return out;
    };

    // The synthetic IL version (the method's own IL) always exists; explicit ones come from the
    // module's MethodDefToILCodeVersioningStateMap.
    const ilState = this.ilCodeVersioningState(module, rid, missing);
    let activeExplicit = 0;
    if (ilState !== 0 && t.u32(t.at(ilState, "ILCodeVersioningState", "ActiveVersionKind")) === IL_KIND_EXPLICIT) {
      activeExplicit = t.pointerField(ilState, "ILCodeVersioningState", "ActiveVersionNode");
    }
    const ilVersions: ILCodeVersion[] = [
      { node: 0, rejitId: 0, ilAddress: this.defaultIlAddress(module, rid, missing), isActive: activeExplicit === 0, nativeVersions: nativeOf(0, true) },
    ];
    if (ilState !== 0) {
      const hasIlAddress = d.hasField("ILCodeVersionNode", "ILAddress");
      if (!hasIlAddress) missing.push("ILCodeVersionNode.ILAddress");
      let node = t.pointerField(ilState, "ILCodeVersioningState", "FirstVersionNode");
      while (node !== 0) {
        if (ilVersions.length > MAX_CODE_VERSIONS) throw new CorruptDataError(`the IL code versions of MethodDesc 0x${methodDesc.toString(16)} form a list longer than ${MAX_CODE_VERSIONS} (corrupt or looping)`);
        const rejitId = Number(t.u64(t.at(node, "ILCodeVersionNode", "VersionId")));
        const explicitIl = hasIlAddress ? t.pointerField(node, "ILCodeVersionNode", "ILAddress") : undefined;
        ilVersions.push({
          node,
          rejitId,
          rejitState: t.u32(t.at(node, "ILCodeVersionNode", "RejitState")),
          // A node without its own IL uses the method's default IL (CodeVersions GetIL).
          ilAddress: explicitIl === 0 ? ilVersions[0]!.ilAddress : explicitIl,
          isActive: node === activeExplicit,
          nativeVersions: nativeOf(rejitId, false),
        });
        node = t.pointerField(node, "ILCodeVersionNode", "Next");
      }
    }
    const activeIl = ilVersions.find((v) => v.isActive);
    return {
      methodDesc,
      ilVersions,
      activeNativeVersion: activeIl?.nativeVersions.find((v) => v.isActive),
      missing: [...new Set(missing)],
    };
  }

  /** The MethodDesc's versioning state (MethodDesc.CodeData -> MethodDescCodeData.VersioningState) and its node list. */
  private nativeCodeVersionNodes(methodDesc: number, missing: string[]): {
    versioningState: number;
    list: { node: number; nativeCode: number; ilVersionId: number; flags: number }[];
  } {
    const t = this.t;
    const d = t.descriptor;
    if (!d.hasField("MethodDesc", "CodeData")) {
      missing.push("MethodDesc.CodeData");
      return { versioningState: 0, list: [] };
    }
    const codeData = t.pointerField(methodDesc, "MethodDesc", "CodeData");
    const versioningState = codeData === 0 ? 0 : t.pointerField(codeData, "MethodDescCodeData", "VersioningState");
    const list: { node: number; nativeCode: number; ilVersionId: number; flags: number }[] = [];
    if (versioningState === 0) return { versioningState, list };
    let seen = 0;
    for (let node = t.pointerField(versioningState, "MethodDescVersioningState", "NativeCodeVersionNode"); node !== 0; node = t.pointerField(node, "NativeCodeVersionNode", "Next")) {
      if (++seen > MAX_CODE_VERSIONS) throw new CorruptDataError(`the native code versions of MethodDesc 0x${methodDesc.toString(16)} form a list longer than ${MAX_CODE_VERSIONS} (corrupt or looping)`);
      // Nodes of other MethodDescs never share this list, but the runtime's iterator checks it too.
      if (t.pointerField(node, "NativeCodeVersionNode", "MethodDesc") !== methodDesc) continue;
      list.push({
        node,
        nativeCode: t.pointerField(node, "NativeCodeVersionNode", "NativeCode"),
        ilVersionId: Number(t.u64(t.at(node, "NativeCodeVersionNode", "ILVersionId"))),
        flags: t.u32Field(node, "NativeCodeVersionNode", "Flags"),
      });
    }
    return { versioningState, list };
  }

  /** The method's ILCodeVersioningState from its module's MethodDefToILCodeVersioningStateMap (0 if none). */
  private ilCodeVersioningState(module: number, rid: number, missing: string[]): number {
    if (rid === 0) return 0;
    const map = this.loader.module(module).maps.methodDefToILCodeVersioningState;
    if (map === undefined) {
      missing.push("Module.MethodDefToILCodeVersioningStateMap");
      return 0;
    }
    return this.loader.lookupMapElement(map, rid).value;
  }

  /** The tier of the default (synthetic) native code version: MethodDescCodeData.OptimizationTier where published. */
  private defaultTier(methodDesc: number, missing: string[]): OptimizationTier | undefined {
    const t = this.t;
    if (!t.descriptor.hasField("MethodDescCodeData", "OptimizationTier")) {
      missing.push("MethodDescCodeData.OptimizationTier");
      return undefined;
    }
    const codeData = t.pointerField(methodDesc, "MethodDesc", "CodeData");
    return codeData === 0 ? undefined : tierName(t.u32(t.at(codeData, "MethodDescCodeData", "OptimizationTier")));
  }

  /** Loader GetILHeader: the method's own IL in its module's image (undefined when the image is not readable). */
  private defaultIlAddress(module: number, rid: number, missing: string[]): number | undefined {
    if (rid === 0) return 0;
    let meta = this.metadata.get(module);
    if (meta === undefined) {
      const img = this.loader.peImage(module);
      meta = img ? MetadataReader.fromPe(img.pe) : null;
      this.metadata.set(module, meta);
    }
    if (!meta) {
      missing.push(`the PE image of module 0x${module.toString(16)}`);
      return undefined;
    }
    try {
      return this.loader.ilAddress(module, meta.methodRva(rid));
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      missing.push(`the IL of method 0x${token(T.MethodDef, rid).toString(16)}: ${e.message}`);
      return undefined;
    }
  }
}

function tierName(value: number): OptimizationTier {
  return NATIVE_TIERS[value] ?? "Unknown Tier";
}
