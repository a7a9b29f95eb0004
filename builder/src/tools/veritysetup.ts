// veritysetup format: builds the dm-verity hash tree of a data image into a hash image and
// reports the root hash. Salt and UUID are given, so the output depends only on the data.
import type { VerityParams } from "../formats/kernel-cmdline.js";
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export interface VerityRequest {
  data: string;
  hash: string;
  salt: string;
  uuid: string;
  dataBlockSize: number;
  hashBlockSize: number;
}

/** What `veritysetup format` reports: the parameters a kernel needs to open the device. */
export type VerityInfo = VerityParams;

export function formatArgs(req: VerityRequest): string[] {
  return [
    "format",
    "--no-superblock",
    "--hash=sha256",
    `--data-block-size=${req.dataBlockSize}`,
    `--hash-block-size=${req.hashBlockSize}`,
    `--salt=${req.salt}`,
    `--uuid=${req.uuid}`,
    req.data,
    req.hash,
  ];
}

/** Reads the "Key: value" lines veritysetup prints after formatting. */
export function parseFormatOutput(stdout: string): VerityInfo {
  const fields = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!.trim().toLowerCase(), m[2]!.trim());
  }
  const need = (k: string) => {
    const v = fields.get(k);
    if (v === undefined) throw new Error(`veritysetup printed no "${k}"`);
    return v;
  };
  return {
    rootHash: need("root hash"),
    salt: need("salt"),
    dataBlocks: Number(need("data blocks")),
    dataBlockSize: Number(need("data block size")),
    hashBlockSize: Number(need("hash block size")),
    hashAlgorithm: need("hash type") === "1" ? (fields.get("hash algorithm") ?? "sha256") : "sha256",
  };
}

export function format(req: VerityRequest, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("veritysetup", "build the dm-verity hash tree", formatArgs(req), options);
}

export function verify(data: string, hash: string, rootHash: string, salt: string, options: RunOptions = {}) {
  return runTool(
    "veritysetup",
    "verify the dm-verity hash tree",
    ["verify", "--no-superblock", "--hash=sha256", `--salt=${salt}`, data, hash, rootHash],
    options,
  );
}
