// Every test file gets a scratch TMPDIR of its own (os.tmpdir() reads it on each call, so every
// mkdtemp(tmpdir()) of the file and of the agents it starts lands there), removed when the file
// is done: a suite that makes images and initrds must not leave gigabytes in /tmp. Mounts a
// failed test left inside it are detached first; if any remains, the directory is kept (and
// named) rather than deleted through a mount.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const scratch = mkdtempSync(join(tmpdir(), "kata-test-"));
process.env.TMPDIR = scratch;

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

afterAll(() => {
  for (const mount of mountsUnder(scratch)) spawnSync("umount", ["-l", mount]);
  if (mountsUnder(scratch).length) {
    process.stderr.write(`test scratch ${scratch} still has mounts; left in place\n`);
    return;
  }
  rmSync(scratch, { recursive: true, force: true });
});
