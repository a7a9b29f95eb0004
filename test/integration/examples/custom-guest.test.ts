// The zx example (examples/custom-guest.mjs) run as a user runs it: a Debian guest with an extra
// package and the example's agent policy, an erofs dm-verity image, and the runtime drop-in,
// through the builder API (kata-guest-toolkit/builder, resolved by the package's own exports).
// It shares the package cache of the other builder tests, so a warm run takes seconds.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import { startAgent } from "../../helpers/agent.js";
import { ensureAgentBuilt, ensureBuilderBundle, repo } from "../../helpers/builder-agent.js";
import { packageCache } from "../../helpers/builder-debian.js";

const zx = path.join(repo, "node_modules", "zx", "build", "cli.js");
const example = path.join(repo, "examples", "custom-guest.mjs");
let out: string;
let result: { root: string; sbom: string; image: string; verity: { params: string }; tree: string };
let run: Awaited<ReturnType<typeof execa>>;

beforeAll(async () => {
  ensureAgentBuilt();
  ensureBuilderBundle(); // also the library the example imports (builder/dist/lib)
  out = mkdtempSync(path.join(tmpdir(), "custom-guest-"));
  const kernel = path.join(out, "vmlinux");
  writeFileSync(kernel, "the drop-in only names the kernel");
  run = await execa(
    process.execPath,
    [zx, example, "--out", out, "--cache", packageCache, "--kernel", kernel],
    {
      reject: false,
      cwd: repo,
      env: { FORCE_COLOR: "0" },
    },
  );
  const last = String(run.stdout).trim().split("\n").at(-1) ?? "";
  result = JSON.parse(last.startsWith("{") ? last : "{}");
}, 600_000);

describe("examples/custom-guest.mjs (zx, the builder API)", () => {
  it("runs to the end", () => {
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("==> Install packages");
  });

  it("puts the extra package and the policy in the guest, and lists the package in the SBOM", () => {
    expect(existsSync(path.join(result.root, "usr/bin/jq"))).toBe(true);
    expect(readFileSync(path.join(result.root, "etc/kata-agent/policy.json"), "utf8")).toBe(
      readFileSync(path.join(repo, "examples", "policy.json"), "utf8"),
    );
    // The agent's wrapper reads this before starting it.
    expect(readFileSync(path.join(result.root, "etc/kata-agent/environment"), "utf8")).toContain(
      "KATA_AGENT_POLICY_FILE=/etc/kata-agent/policy.json",
    );
    const sbom = JSON.parse(readFileSync(result.sbom, "utf8")) as { packages: { name: string }[] };
    const names = sbom.packages.map((p) => p.name);
    expect(names).toContain("jq");
    expect(names).toContain("kata-agent");
    expect(names).toContain("@bufbuild/protobuf");
  });

  it("makes an erofs dm-verity image and the runtime drop-in that opens it", () => {
    const manifest = JSON.parse(readFileSync(`${result.image}.manifest.json`, "utf8"));
    expect(manifest.inputs).toMatchObject({ fs: "erofs", verity: true });
    expect(manifest.input.treeSha256).toBe(result.tree);
    const dropIn = parse(
      readFileSync(path.join(out, "runtime", "config.d", "50-kata-build.toml"), "utf8"),
    ) as {
      hypervisor: { clh: Record<string, string> };
    };
    expect(dropIn.hypervisor.clh).toMatchObject({
      image: result.image,
      rootfs_type: "erofs",
      kernel_verity_params: result.verity.params,
      kernel_params: "agent.log=info",
    });
  });

  it("ships a policy the agent accepts", async () => {
    const agent = await startAgent({
      env: { KATA_AGENT_POLICY_FILE: path.join(repo, "examples", "policy.json") },
    });
    try {
      expect((await agent.health.check({})).status).toBe(1);
    } finally {
      await agent.stop();
    }
  });
});
