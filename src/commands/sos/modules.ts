// `modules` / `lm` (SOS, Host/ModulesCommand.cs): every image the dump maps, native (ELF) and PE
// files alike, as dotnet-dump lists them (src/native/dump-images.ts): `{base:X16} {size:X8} {path}`
// per image, by address, then `Total image size: {n}` (of every image, filtered or not).
// `-n REGEX` keeps images whose file name matches, `-a ADDRESS` the one holding an address.
// The managed modules are `clrmodules`; `image list` gives build-ids and symbol sources.
//
// JSON: { images: [{ index, base, size, path, kind }], totalImageSize } (numbers).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { dumpImages, type DumpImage } from "../../native/dump-images.js";
import { defineCommand, parseArgs } from "../command.js";
import { filterImages } from "./image-filter.js";

export interface ModulesImage extends DumpImage {
  /** Position in the address-ordered list (SOS's ModuleIndex). */
  index: number;
}

export interface NativeModulesResult {
  images: ModulesImage[];
  /** Sum of every image's size, including those a filter left out (as SOS). */
  totalImageSize: number;
  /** With -a: the address looked up (SOS then prints no total). */
  address?: number;
}

export const modules = defineCommand<NativeModulesResult>({
  names: ["modules", "lm"],
  summary: "SOS: every image the dump maps, native and managed (base, size, path)",
  usage: "modules [-n REGEX] [-a ADDRESS]   (managed modules: clrmodules [-v])",
  run(session, args) {
    const a = parseArgs(args, ["-n", "--name", "-a", "--address"], []);
    if (a.positional.length > 0) throw new CommandError(`usage: ${this.usage}`, "usage");
    const all = dumpImages(session.process.core, session.process.memory).map((m, index) => ({ ...m, index }));
    const totalImageSize = all.reduce((s, m) => s + m.size, 0);
    const { items: images, address } = filterImages(all, a.values, (m) => m);
    if (address !== undefined) {
      if (images.length === 0) throw new CommandError(`Address 0x${hexDigits(address, 16).toUpperCase()} not found`, "not-found");
      return { images, totalImageSize, address };
    }
    return { images, totalImageSize };
  },
  render(r) {
    const out = r.images.map((m) => `${hexDigits(m.base, 16).toUpperCase()} ${hexDigits(m.size, 8).toUpperCase()} ${m.path}`);
    if (r.address === undefined) out.push(`Total image size: ${r.totalImageSize}`);
    return out.join("\n");
  },
});
