// Bench hook for kata-build's Debian flavour: builds rootfs -> image ->
// initrd with the real CLI and reports the sizes (rootfs tree, disk image, compressed initrd)
// and the build times: cold (empty cache: every .deb downloaded, lists fetched, packages
// bootstrapped) and warm (the same cache again: lists fresh, base tree reused).
//   import { benchBuilderSection } from "./builder.mjs";   // -> report.ts Section
//   import { benchBuilder } from "./builder.mjs";          // -> the raw figures
//   node test/bench/builder.mjs [--agent-init] [--quick]   (prints the raw figures as JSON)
// Needs root (mmdebstrap --mode=root) and `npm run build` (the bundled CLI and the agent).
import { execFileSync } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(repo, "builder", "bin", "kata-build.mjs");
const MB = 1e6;
const GOALS = { initrdMB: 60, imageMB: 256, warmSeconds: 90 };

function duBytes(path) {
  // Bytes of the tree's files and links (not directories), links not followed (a merged-/usr
  // root links /bin to usr/bin): the measure the first figures were taken with.
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += duBytes(join(path, name));
  return total;
}

function kataBuild(args) {
  const started = performance.now();
  execFileSync("node", [cli, ...args, "-q"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" },
  });
  return (performance.now() - started) / 1000;
}

const round = (n, digits = 1) => Number(n.toFixed(digits));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** One rootfs -> image -> initrd build into a fresh output directory. */
function buildOnce(cache, init) {
  const out = mkdtempSync(join(tmpdir(), "kata-build-bench-"));
  const rootfsArgs = ["rootfs", "--distro", "debian", "--out", out, "--cache", cache];
  if (init === "agent") rootfsArgs.push("--agent-init");
  const rootfsSeconds = kataBuild(rootfsArgs);
  const imageSeconds = kataBuild(["image", "--rootfs", join(out, "rootfs"), "--out", out]);
  const initrdSeconds = kataBuild(["initrd", "--rootfs", join(out, "rootfs"), "--out", out]);
  return {
    out,
    seconds: round(rootfsSeconds + imageSeconds + initrdSeconds),
    rootfsSeconds: round(rootfsSeconds),
    imageSeconds: round(imageSeconds),
    initrdSeconds: round(initrdSeconds),
  };
}

const times = ({ seconds, rootfsSeconds, imageSeconds, initrdSeconds }) => ({
  seconds,
  rootfsSeconds,
  imageSeconds,
  initrdSeconds,
});

/**
 * @param {{ init?: "systemd" | "agent", quick?: boolean, cold?: boolean, warmRuns?: number,
 *   cache?: string, keep?: boolean }} [options]
 *   quick: no cold build; an untimed build then one warm run on the persistent cache
 *   (.cache/bench-builder). Otherwise a cold build on an empty cache, then warm runs on it.
 * @returns {Promise<import("./builder.d.mts").BuilderFigures>}
 */
export async function benchBuilder(options = {}) {
  const init = options.init ?? "systemd";
  const quick = options.quick ?? false;
  const measureCold = options.cold ?? !quick;
  const warmRuns = options.warmRuns ?? (quick ? 1 : 3);
  const loadBefore = loadavg();
  let cache;
  let cold;
  let scratchCache;
  if (measureCold) {
    scratchCache = mkdtempSync(join(tmpdir(), "kata-build-bench-cache-"));
    cache = scratchCache;
    const run = buildOnce(cache, init);
    cold = times(run);
    rmSync(run.out, { recursive: true, force: true });
  } else {
    // An untimed build first: it fills an empty cache, or is just another warm build.
    cache = options.cache ?? join(repo, ".cache", "bench-builder");
    rmSync(buildOnce(cache, init).out, { recursive: true, force: true });
  }
  const warm = [];
  let last;
  for (let i = 0; i < warmRuns; i++) {
    if (last) rmSync(last.out, { recursive: true, force: true });
    last = buildOnce(cache, init);
    warm.push(times(last));
  }
  const out = last.out;
  let initrdGzipBytes;
  if (!quick) {
    const gzipArgs = ["--compression", "gzip", "--name", "gz.img"];
    kataBuild(["initrd", "--rootfs", join(out, "rootfs"), "--out", out, ...gzipArgs]);
    initrdGzipBytes = statSync(join(out, "gz.img")).size;
  }
  const result = {
    init,
    rootfsBytes: duBytes(join(out, "rootfs")),
    imageBytes: statSync(join(out, "kata-containers.img")).size,
    initrdBytes: statSync(join(out, "kata-containers-initrd.img")).size,
    initrdCompression: "zstd -9",
    initrdGzipBytes,
    warmBuildSeconds: median(warm.map((w) => w.seconds)),
    warm,
    coldBuildSeconds: cold?.seconds,
    cold,
    machine: {
      cpus: cpus().length,
      loadBefore: loadBefore.map((l) => round(l, 2)),
      loadAfter: loadavg().map((l) => round(l, 2)),
    },
  };
  if (!options.keep) rmSync(out, { recursive: true, force: true });
  if (scratchCache) rmSync(scratchCache, { recursive: true, force: true });
  return result;
}

/**
 * The figures as a bench section (report.ts): sizes in MB (10^6 bytes) and seconds, with the
 * issue's goals; the gzip initrd and the cold build are the references measured in the same run.
 * @param {{ quick?: boolean, init?: "systemd" | "agent" }} [options]
 * @returns {Promise<import("./report.js").Section>}
 */
export async function benchBuilderSection(options = {}) {
  const r = await benchBuilder(options);
  const mb = (bytes) => round(bytes / MB, 2);
  const flavour = r.init === "agent" ? "agent as init" : "systemd";
  const load = `load average ${r.machine.loadBefore[0]} before, ${r.machine.loadAfter[0]} after, ${r.machine.cpus} CPUs`;
  const warmNote = `median of ${r.warm.length}: ${r.warm.map((w) => `${w.seconds} s (rootfs ${w.rootfsSeconds}, image ${w.imageSeconds}, initrd ${w.initrdSeconds})`).join(", ")}; ${load}`;
  /** @type {import("./report.js").Figure[]} */
  const figures = [
    { name: `Debian rootfs tree (${flavour}), apparent size`, unit: "MB", ours: mb(r.rootfsBytes) },
    {
      name: "Disk image (ext4, sized from the content)",
      unit: "MB",
      ours: mb(r.imageBytes),
      goal: { of: "ours", max: GOALS.imageMB },
    },
    {
      name: `initrd, compressed (${r.initrdCompression}, the default)`,
      unit: "MB",
      ours: mb(r.initrdBytes),
      ...(r.initrdGzipBytes ? { reference: { name: "gzip -6", value: mb(r.initrdGzipBytes) } } : {}),
      goal: { of: "ours", max: GOALS.initrdMB },
    },
    {
      name: "Warm build: rootfs + image + initrd (cached lists, .debs and base tree)",
      unit: "s",
      ours: r.warmBuildSeconds,
      ...(r.cold ? { reference: { name: "cold build, empty cache", value: r.cold.seconds } } : {}),
      goal: { of: "ours", max: GOALS.warmSeconds },
      note: warmNote,
    },
  ];
  if (r.cold) {
    figures.push({
      name: "Cold build: rootfs + image + initrd (empty cache)",
      unit: "s",
      ours: r.cold.seconds,
      note: `rootfs ${r.cold.rootfsSeconds} s, image ${r.cold.imageSeconds} s, initrd ${r.cold.initrdSeconds} s; ${load}`,
    });
  }
  return { title: `kata-build, Debian guest (${flavour})`, figures };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const init = process.argv.includes("--agent-init") ? "agent" : "systemd";
  const quick = process.argv.includes("--quick");
  process.stdout.write(`${JSON.stringify(await benchBuilder({ init, quick }), null, 2)}\n`);
}
