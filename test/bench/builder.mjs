// Bench hook for kata-build's Debian flavour: builds rootfs -> image -> initrd with the real
// CLI and a warm package cache, and reports sizes and the warm build time.
//   import { benchBuilder } from "./builder.mjs"; const r = await benchBuilder();
//   node test/bench/builder.mjs            (prints the figures as JSON)
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(repo, "builder", "bin", "kata-build.mjs");

function duBytes(path) {
  // Apparent size of the tree, links not followed (a merged-/usr root links /bin to usr/bin).
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += duBytes(join(path, name));
  return total;
}

function kataBuild(args, env) {
  execFileSync("node", [cli, ...args, "-q"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...env },
  });
}

/**
 * @param {{ init?: "systemd" | "agent", cache?: string, keep?: boolean }} [options]
 * @returns {Promise<{ rootfsBytes: number, imageBytes: number, initrdBytes: number, warmBuildSeconds: number,
 *   rootfsSeconds: number, imageSeconds: number, initrdSeconds: number, init: string }>}
 */
export async function benchBuilder(options = {}) {
  const init = options.init ?? "systemd";
  const cache = options.cache ?? join(repo, ".cache", "bench-builder");
  const out = mkdtempSync(join(tmpdir(), "kata-build-bench-"));
  const env = { SOURCE_DATE_EPOCH: "1700000000" };
  const rootfsArgs = ["rootfs", "--distro", "debian", "--out", out, "--cache", cache];
  if (init === "agent") rootfsArgs.push("--agent-init");
  if (!existsSync(join(cache, "debian")) || readdirSync(join(cache, "debian")).length === 0) {
    kataBuild(rootfsArgs, env); // warm the package cache first
  }
  const t0 = performance.now();
  kataBuild(rootfsArgs, env);
  const t1 = performance.now();
  kataBuild(["image", "--rootfs", join(out, "rootfs"), "--out", out], env);
  const t2 = performance.now();
  kataBuild(["initrd", "--rootfs", join(out, "rootfs"), "--out", out], env);
  const t3 = performance.now();
  const result = {
    init,
    rootfsBytes: duBytes(join(out, "rootfs")),
    imageBytes: statSync(join(out, "kata-containers.img")).size,
    initrdBytes: statSync(join(out, "kata-containers-initrd.img")).size,
    warmBuildSeconds: Number(((t3 - t0) / 1000).toFixed(1)),
    rootfsSeconds: Number(((t1 - t0) / 1000).toFixed(1)),
    imageSeconds: Number(((t2 - t1) / 1000).toFixed(1)),
    initrdSeconds: Number(((t3 - t2) / 1000).toFixed(1)),
  };
  if (!options.keep) rmSync(out, { recursive: true, force: true });
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const init = process.argv.includes("--agent-init") ? "agent" : "systemd";
  process.stdout.write(`${JSON.stringify(await benchBuilder({ init }), null, 2)}\n`);
}
