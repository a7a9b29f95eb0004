// A scratch TMPDIR for a test file or a bench run: os.tmpdir() reads TMPDIR on each call, so
// every mkdtemp(tmpdir()) of the process and of the agents it starts lands there, and one
// removal at the end leaves nothing in /tmp. Mounts left inside are detached first; if any
// remains, the directory is kept (and named) rather than deleted through a mount.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Scratch {
  dir: string;
  remove(): void;
}

export function useScratchTmpdir(prefix: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.env.TMPDIR = dir;
  return {
    dir,
    remove() {
      for (const mount of mountsUnder(dir)) spawnSync("umount", ["-l", mount]);
      if (mountsUnder(dir).length) {
        process.stderr.write(`scratch ${dir} still has mounts; left in place\n`);
        return;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
function mountsUnder(dir: string): string[] {
  const decodeOctal = (p: string) =>
    p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => decodeOctal(line.split(" ")[4] ?? ""))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}
