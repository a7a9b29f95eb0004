// The kernel command through the bundled CLI (`npm run build` makes builder/dist first).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kernelTestCache, repoPath, requireKernelSource } from "../../../helpers/kernel-source.js";

const cli = repoPath("builder", "bin", "kata-build.mjs");
const out = mkdtempSync(join(tmpdir(), "kata-kernel-cli-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("kata-build kernel", () => {
  it("documents its options and features in --help", () => {
    const help = execFileSync("node", [cli, "kernel", "--help"], { encoding: "utf8" });
    for (const text of [
      "--hypervisor",
      "--source TARBALL|DIR|VERSION",
      "--feature NAME",
      "--config-only",
      "confidential",
    ]) {
      expect(help).toContain(text);
    }
  });

  it("--config-only on arm64 checks the arm64 fragments without a cross compiler", () => {
    const run = spawnSync(
      "node",
      [cli, "kernel", "--source", requireKernelSource(), "--arch", "arm64", "--config-only", "--json", "-q"],
      { encoding: "utf8", env: { ...process.env, KATA_BUILD_CACHE: kernelTestCache() }, cwd: out },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.manifest).toMatchObject({ arch: "arm64", hypervisor: "kvm", version: "6.1.192" });
    const config = readFileSync(join(out, "out", "kernel", "config"), "utf8");
    expect(config).toContain("CONFIG_ARM64=y");
    expect(config).toContain("CONFIG_SERIAL_AMBA_PL011_CONSOLE=y");
  }, 600_000);

  it("fails with exit 1 and a hint when the source is neither a path nor a pinned version", () => {
    const run = spawnSync("node", [cli, "kernel", "--source", "9.9.9", "--config-only"], {
      encoding: "utf8",
      env: { ...process.env, KATA_BUILD_CACHE: kernelTestCache() },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("kata-build kernel: error: kernel 9.9.9 is not pinned");
    expect(run.stderr).toContain("pinned: 6.1.192-debian3");
  });
});
