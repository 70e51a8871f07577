// The `-n REGEX` and `-a ADDRESS` filters that `modules` and `clrmodules` share (as SOS's do):
// images whose file name matches, case-insensitively; the image that holds an address.
import { CommandError } from "../../errors.js";
import { fileNameOf } from "../../native/modules.js";
import { parseNumber } from "../command.js";

export interface ImageExtent {
  path: string;
  base: number;
  size: number;
}

/** `items` narrowed by -n/--name and -a/--address; `address` when -a was given (the caller says "not found"). */
export function filterImages<T>(items: T[], values: Map<string, string>, extentOf: (item: T) => ImageExtent): { items: T[]; address?: number } {
  let kept = items;
  const nameFilter = values.get("-n") ?? values.get("--name");
  if (nameFilter !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(nameFilter, "i");
    } catch (e) {
      throw new CommandError(`-n ${nameFilter}: not a valid regular expression (${(e as Error).message})`, "usage");
    }
    kept = kept.filter((item) => {
      const { path } = extentOf(item);
      return path !== "" && re.test(fileNameOf(path));
    });
  }
  const addressText = values.get("-a") ?? values.get("--address");
  if (addressText === undefined) return { items: kept };
  const address = parseNumber(addressText);
  kept = kept.filter((item) => {
    const { base, size } = extentOf(item);
    return address >= base && address < base + size;
  });
  return { items: kept, address };
}
