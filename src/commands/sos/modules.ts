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
import { fileNameOf } from "../../native/modules.js";
import { defineCommand, parseArgs, parseNumber } from "../command.js";

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
    let images = all;
    const nameFilter = a.values.get("-n") ?? a.values.get("--name");
    if (nameFilter !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(nameFilter, "i");
      } catch (e) {
        throw new CommandError(`-n ${nameFilter}: not a valid regular expression (${(e as Error).message})`, "usage");
      }
      images = images.filter((m) => m.path !== "" && re.test(fileNameOf(m.path)));
    }
    const addressText = a.values.get("-a") ?? a.values.get("--address");
    if (addressText !== undefined) {
      const address = parseNumber(addressText);
      images = images.filter((m) => address >= m.base && address < m.base + m.size);
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
