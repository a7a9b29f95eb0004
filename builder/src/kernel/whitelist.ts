// Known, accepted drops. Each line of whitelist.conf is
//   CONFIG_NAME  absent|dropped  reason...
// `absent` accepts the drop only when the tree does not define the option at all (a name from
// another kernel version or architecture); `dropped` accepts it for any reason. A line without
// a reason is an error: the file is the record of why each exception is fine.
import { readFile } from "node:fs/promises";
import { BuildError } from "../util/errors.js";
import type { Drop } from "./kconfig/explain.js";

export interface WhitelistEntry {
  symbol: string;
  when: "absent" | "dropped";
  reason: string;
  line: number;
}

export function parseWhitelist(text: string, file: string): WhitelistEntry[] {
  const entries: WhitelistEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^CONFIG_([A-Za-z0-9_]+)\s+(absent|dropped)\s+(\S.*)$/.exec(line);
    if (!m) {
      throw new BuildError(
        `${file}:${i + 1}: expected 'CONFIG_NAME absent|dropped reason', got '${line}'`,
        "every whitelist line needs the option, when it may be dropped, and why",
      );
    }
    entries.push({ symbol: m[1]!, when: m[2] as WhitelistEntry["when"], reason: m[3]!, line: i + 1 });
  });
  return entries;
}

export async function loadWhitelist(path: string): Promise<WhitelistEntry[]> {
  return parseWhitelist(await readFile(path, "utf8"), path);
}

/** The whitelist entry that accepts a drop, if any. */
export function acceptedBy(drop: Drop, whitelist: readonly WhitelistEntry[]): WhitelistEntry | undefined {
  return whitelist.find((w) => w.symbol === drop.symbol && (w.when === "dropped" || drop.absent));
}

export function partitionDrops(
  drops: readonly Drop[],
  whitelist: readonly WhitelistEntry[],
): { accepted: { drop: Drop; entry: WhitelistEntry }[]; rejected: Drop[] } {
  const accepted: { drop: Drop; entry: WhitelistEntry }[] = [];
  const rejected: Drop[] = [];
  for (const drop of drops) {
    const entry = acceptedBy(drop, whitelist);
    if (entry) accepted.push({ drop, entry });
    else rejected.push(drop);
  }
  return { accepted, rejected };
}
