// zstd: compressing initrds (Node 20's zlib has no zstd) and reading .tar.zst inputs.
// Both run as streams; the result promise carries exitCode like every other tool.
import type { Readable, Writable } from "node:stream";
import { execa } from "execa";
import { requireTool } from "../util/host-tools.js";
import { runTool } from "./run.js";

export interface StreamingTool {
  stdin: Writable;
  stdout: Readable;
  /** Resolves with the exit code once the program ended. */
  done: Promise<number | undefined>;
}

/**
 * A compressor process: write the input to `stdin`, read the frames from `stdout`. zstd's
 * multi-threaded mode gives the same bytes for any number of worker threads (checked with
 * zstd 1.5.4: -T1, -T2, -T4 and -T0 agree; only --single-thread differs), so -T0 keeps builds
 * reproducible across machines with different core counts.
 */
export function zstdCompressor(level: number, threads = 0): StreamingTool {
  const file = requireTool("zstd", "compress the initrd with zstd");
  const sub = execa(file, ["-q", "-c", `-${level}`, `-T${threads}`, ...(level > 19 ? ["--ultra"] : [])], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    buffer: false,
    reject: false,
    cleanup: true,
  });
  return { stdin: sub.stdin, stdout: sub.stdout, done: sub.then((r) => r.exitCode) };
}

/** "1.5.4" from `zstd --version` (recorded in manifests: the output depends on it). */
export async function zstdVersion(): Promise<string> {
  const result = await runTool("zstd", "compress the initrd with zstd", ["--version"]);
  return /v(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? "unknown";
}

/** The decompressed bytes of a zstd file, as a stream. */
export function zstdDecompress(path: string): Readable {
  const file = requireTool("zstd", "read a zstd-compressed tarball");
  const sub = execa(file, ["-q", "-d", "-c", path], {
    stdout: "pipe",
    stderr: "inherit",
    buffer: false,
    reject: false,
    cleanup: true,
  });
  void sub.then((r) => {
    if (r.exitCode !== 0) sub.stdout.destroy(new Error(`zstd -d ${path} exited with status ${r.exitCode}`));
  });
  return sub.stdout;
}
