#!/usr/bin/env zx
// A custom Kata guest, built with the kata-guest-toolkit builder API from a zx script: a Debian
// root with extra packages and an agent policy, packed as an erofs image with dm-verity, and the
// Kata runtime's configuration drop-in and RuntimeClass for it.
//
//   npx zx examples/custom-guest.mjs --out out/custom [--package jq]... [--policy FILE]
//                                    [--kernel FILE] [--cache DIR] [--config kata-build.toml]
//
// It runs where kata-build runs (Debian 12 with mmdebstrap, erofs-utils, cryptsetup-bin; as root).
// Settings a kata-build.toml gives (--config) are the starting point; the script's own win.
import { image, loadBuildConfig, rootfs, runtimeConfig } from "kata-guest-toolkit/builder";
import { $, argv, chalk, echo, fs, path } from "zx";

const here = path.dirname(new URL(import.meta.url).pathname);
const out = path.resolve(argv.out ?? "out/custom-guest");
const packages = [argv.package ?? "jq"].flat();
const policy = path.resolve(argv.policy ?? path.join(here, "policy.json"));
const fromFile = argv.config ? await loadBuildConfig(argv.config) : {};
const cache = argv.cache ? { cache: path.resolve(argv.cache) } : {};

// Steps arrive as events: print the top-level ones, as kata-build would.
const onProgress = (e) => {
  if (e.type === "step" && e.depth === 0) echo(chalk.cyan(`==> ${e.name}`));
  if (e.type === "failed") echo(chalk.red(`    ${e.name} failed after ${e.seconds}s`));
};

echo(
  chalk.bold(
    `custom guest: Debian + ${packages.join(", ")}, policy ${path.basename(policy)}, erofs + dm-verity`,
  ),
);
const guest = await rootfs(
  {
    ...fromFile.rootfs,
    distro: "debian",
    agentInit: true,
    package: packages,
    // Checked, laid in as /etc/kata-agent/policy.json, and loaded by the agent at start.
    policy,
    out,
    name: "rootfs",
    ...cache,
  },
  { onProgress },
);
for (const p of packages) {
  // The extra packages are in the root (dpkg's database is stripped, the files are not).
  const { stdout } = await $`find ${guest.root}/usr/bin ${guest.root}/usr/sbin -name ${p}`.quiet();
  if (!stdout.trim()) throw new Error(`${p} left no program in /usr/bin or /usr/sbin of the guest`);
}

const disk = await image(
  { ...fromFile.image, rootfs: guest.root, fs: "erofs", verity: true, out },
  { onProgress },
);
echo(`image        ${disk.image} (${(await fs.stat(disk.image)).size} bytes)`);
echo(`root hash    ${disk.verity.rootHash}`);

if (argv.kernel) {
  const config = await runtimeConfig({
    hypervisor: argv.hypervisor ?? "clh",
    kernel: path.resolve(argv.kernel),
    image: disk.image,
    // The agent's own settings on the kernel command line, checked against its settings table.
    agentParam: ["log=info"],
    out: path.join(out, "runtime"),
  });
  echo(`drop-in      ${config.dropIn}`);
  echo(`RuntimeClass ${config.runtimeClass}`);
}
// One line of JSON for whoever runs this (CI, another script).
echo(
  JSON.stringify({
    root: guest.root,
    sbom: guest.sbom,
    image: disk.image,
    verity: disk.verity,
    tree: disk.inputTreeSha256,
  }),
);
