// zstd: compressing initrds (Node 20's zlib has no zstd) and reading .tar.zst inputs.
// Both run as streams; the result promise carries exitCode like every other tool.
import type { Readable, Writable } from "node:stream";
import { execa } from "execa";
import { requireTool } from "../util/host-tools.js";

export interface StreamingTool {
  stdin: Writable;
  stdout: Readable;
  /** Resolves with the exit code once the program ended. */
  done: Promise<number | undefined>;
}

/** A compressor process: write the input to `stdin`, read the frames from `stdout`. */
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
