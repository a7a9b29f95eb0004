// kata-build rootfs, as the list of stages it runs.
import { createContext } from "../context.js";
import { distros } from "../distro/index.js";
import { NODE_PACKAGE, nodeLibraryPackages } from "../distro/package-lists.js";
import type { InitMode } from "../distro/types.js";
import { configureInit } from "../stages/configure-init.js";
import { configureTimeSync } from "../stages/configure-time-sync.js";
import { extractBase } from "../stages/extract-base.js";
import { installAgent } from "../stages/install-agent.js";
import { type ExtrasInput, installExtras } from "../stages/install-extras.js";
import { installFiles } from "../stages/install-files.js";
import { checkNodeBinary, installNode } from "../stages/install-node.js";
import { installPackages } from "../stages/install-packages.js";
import { makeAgentSnapshot, removeSnapshotEntry } from "../stages/make-agent-snapshot.js";
import { makeSbom } from "../stages/make-sbom.js";
import { makeTar } from "../stages/make-tar.js";
import { pruneAgentInit } from "../stages/prune-agent-init.js";
import { recordGuestNode } from "../stages/record-guest-node.js";
import { stripRootfs } from "../stages/strip-rootfs.js";
import { writeManifest } from "../stages/write-manifest.js";
import { BuildError } from "../util/errors.js";
import { TOOL_NAME } from "../util/manifest.js";
import type { Progress } from "../util/progress.js";
import { withStaging } from "../workspace/atomic.js";

export interface RootfsConfig {
  distro: string;
  init: InitMode;
  out: string;
  /** Name of the directory (and prefix of the tarball, manifest and SBOM). */
  name: string;
  data: string;
  cache: string;
  agentDir: string;
  mirror?: string;
  gpgKey?: string;
  repoGpgcheck: boolean;
  variant?: string;
  fromTar?: string;
  tar: boolean;
  keepPackageDb: boolean;
  extraPackages: string[];
  /** A Node.js binary to install as /usr/bin/node instead of the distribution's nodejs. */
  node?: string;
  /** Agent-as-init guests keep only what the agent runs: paths to keep besides (and what they need). */
  keep?: string[];
  /**
   * Make the agent's start-up snapshot with the guest's node. Off by default: node writes
   * timestamps and random state into a snapshot, so a tree holding one is not bit-identical
   * from build to build (everything else is).
   */
  snapshot?: boolean;
  epoch: number;
  /** Refresh package metadata and install afresh instead of reusing a cached base tree. */
  refresh?: boolean;
  /** What the user adds: an agent policy, guest hooks, files, trees. */
  extras?: ExtrasInput;
}

export interface RootfsResult {
  artifacts: string[];
  manifest: Record<string, unknown>;
}

export async function buildRootfs(config: RootfsConfig, progress: Progress): Promise<RootfsResult> {
  const distro = distros[config.distro];
  if (!distro) throw new BuildError(`unknown distribution '${config.distro}'`);
  if (config.fromTar && config.extraPackages.length) {
    throw new BuildError(
      `--package ${config.extraPackages.join(" ")} needs a package manager, and --from-tar starts from a tarball without one`,
      "put the packages in the tarball, or build from the distribution instead of --from-tar",
    );
  }
  // Before any bootstrap: a --node that cannot be used fails in a second, not after minutes.
  if (config.node) await checkNodeBinary(config.node);
  return withStaging(
    config.out,
    async (staging) => {
      const ctx = await createContext(staging, {
        progress,
        epoch: config.epoch,
        data: config.data,
        cache: config.cache,
        root: staging.path(config.name),
        distro,
        init: config.init,
      });
      const step = <T>(name: string, run: () => Promise<T>) => progress.step(name, run);

      if (config.fromTar) {
        const tarball = config.fromTar;
        await step("Extract base tarball", () => extractBase(ctx, { tarball }));
      } else {
        // A given Node.js replaces the distribution's nodejs, and needs a few libraries instead.
        const extra = config.node
          ? [...config.extraPackages, ...(await nodeLibraryPackages(config.data, distro.name))]
          : config.extraPackages;
        await step("Install packages", () =>
          installPackages(ctx, {
            sources: {
              mirror: config.mirror,
              gpgKey: config.gpgKey,
              repoGpgcheck: config.repoGpgcheck,
              variant: config.variant,
              refresh: config.refresh === true,
              ...(config.extras ? { extras: config.extras } : {}),
            },
            extra,
            omit: config.node ? [NODE_PACKAGE] : [],
          }),
        );
      }
      const node = config.node;
      if (node) await step("Install Node.js", () => installNode(ctx, { binary: node }));
      const agent = await step("Install agent", () => installAgent(ctx, { agentDir: config.agentDir }));
      await step("Install files", () => installFiles(ctx));
      await step("Configure init", () => configureInit(ctx));
      await step("Configure time sync", () => configureTimeSync(ctx));
      await step("Record the guest's Node.js", () => recordGuestNode(ctx));
      await step("Make SBOM", () => makeSbom(ctx, { name: config.name, agent }));
      if (config.init === "agent") {
        await step("Keep only what the agent runs", () =>
          pruneAgentInit(ctx, {
            packages: config.extraPackages,
            keep: config.keep ?? [],
            keepPackageDb: config.keepPackageDb,
          }),
        );
      }
      await step("Strip root filesystem", () => stripRootfs(ctx, { keepPackageDb: config.keepPackageDb }));
      const extras = config.extras;
      if (extras && (extras.policy || extras.hooks || extras.files.length || extras.overlays.length)) {
        await step("Install extras (policy, hooks, files)", () => installExtras(ctx, extras));
      }
      // Last, so the stamp describes the tree as it ships.
      if (config.snapshot) await step("Make the agent's start-up snapshot", () => makeAgentSnapshot(ctx));
      else await removeSnapshotEntry(ctx);
      ctx.artifacts.unshift(config.name);
      if (config.tar) await step("Make tarball", () => makeTar(ctx, { name: `${config.name}.tar` }));
      const manifest = await step("Write manifest", () =>
        writeManifest(ctx, {
          file: `${config.name}.manifest.json`,
          header: {
            tool: TOOL_NAME,
            command: "rootfs",
            distro: distro.name,
            init: config.init,
            inputs: {
              fromTar: config.fromTar,
              mirror: config.mirror,
              variant: config.variant,
              extraPackages: config.extraPackages,
              node: config.node,
              keepPackageDb: config.keepPackageDb,
              keep: config.keep ?? [],
              snapshot: config.snapshot === true,
              refresh: config.refresh === true,
              ...(config.extras ? { extras: config.extras } : {}),
            },
          },
        }),
      );
      return { artifacts: ctx.artifacts, manifest };
    },
    { manifest: `${config.name}.manifest.json` },
  );
}
