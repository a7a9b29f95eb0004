// kata-build as a library (builder/src/api, the package's kata-guest-toolkit/builder): a guest
// from a small busybox base, packed as an erofs dm-verity image (raw and qcow2) and an initrd,
// plugged into the Kata runtime's configuration; progress arrives as events; the SBOM lists the
// agent and the npm packages bundled into it; manifests record the input tree's hash.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BuildError,
  image,
  initrd,
  type ProgressEvent,
  type RootfsResult,
  rootfs,
  runtimeConfig,
  UsageError,
} from "../../../../builder/src/api/index.js";
import { ensureAgentBuilt, repo } from "../../../helpers/builder-agent.js";
import { smallBaseTar } from "../../../helpers/small-guest.js";

const work = () => mkdtempSync(path.join(tmpdir(), "kata-build-api-"));
let guest: RootfsResult;
const events: ProgressEvent[] = [];

beforeAll(async () => {
  ensureAgentBuilt();
  guest = await rootfs(
    { distro: "debian", fromTar: smallBaseTar(), agentInit: true, out: work(), name: "small" },
    { onProgress: (e) => events.push(e) },
  );
}, 120_000);

describe("rootfs()", () => {
  it("builds the guest and reports each step as events", () => {
    expect(guest.root).toMatch(/\/small$/);
    expect(
      readFileSync(path.join(guest.root, "usr/lib/kata-agent/kata-agent.mjs"), "utf8").length,
    ).toBeGreaterThan(0);
    const steps = events.filter((e) => e.type === "step").map((e) => (e as { name: string }).name);
    expect(steps).toEqual([
      "Extract base tarball",
      "Install agent",
      "Install files",
      "Configure init",
      "Configure time sync",
      "Record the guest's Node.js",
      "Make SBOM",
      "Keep only what the agent runs",
      "Strip root filesystem",
      "Write manifest",
    ]);
    expect(events.filter((e) => e.type === "done")).toHaveLength(steps.length);
  });

  it("lists the agent and every npm package bundled into it in the SBOM, with versions and licences", () => {
    const sbom = JSON.parse(readFileSync(guest.sbom, "utf8")) as {
      packages: { name: string; versionInfo: string; licenseDeclared: string; SPDXID: string }[];
      relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
    };
    const agent = sbom.packages.find((p) => p.name === "kata-agent")!;
    const pkg = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { version: string };
    expect(agent.versionInfo).toBe(pkg.version);
    const contained = sbom.relationships
      .filter((r) => r.spdxElementId === agent.SPDXID && r.relationshipType === "CONTAINS")
      .map((r) => sbom.packages.find((p) => p.SPDXID === r.relatedSpdxElement)!);
    const names = contained.map((p) => p.name);
    // What the agent imports at run time is in; what only builds or tests it is not.
    for (const name of ["@bufbuild/protobuf", "@grpc/grpc-js", "execa", "smol-toml"])
      expect(names).toContain(name);
    for (const name of ["vitest", "typescript", "esbuild", "zx", "@biomejs/biome"])
      expect(names).not.toContain(name);
    // Each version and licence is the installed package's own (top-level ones read here).
    for (const p of contained) {
      const file = path.join(repo, "node_modules", p.name, "package.json");
      let own: { version: string; license?: string };
      try {
        own = JSON.parse(readFileSync(file, "utf8"));
      } catch {
        continue; // a nested copy (node_modules/x/node_modules/p): checked by the inventory's path
      }
      if (own.version !== p.versionInfo) continue; // a second, nested version of the same package
      if (typeof own.license === "string" && !own.license.includes("/")) {
        expect(p.licenseDeclared, p.name).toBe(own.license);
      }
    }
    expect(contained.filter((p) => p.licenseDeclared === "NOASSERTION").map((p) => p.name)).toEqual([]);
  });
});

describe("image() and initrd()", () => {
  it("makes an erofs dm-verity image, raw and qcow2, and the same guest's initrd", async () => {
    const out = work();
    const disk = await image({ rootfs: guest.root, fs: "erofs", verity: true, format: "both", out });
    expect(disk.image).toBe(path.join(out, "kata-containers.img"));
    expect(disk.qcow2).toBe(path.join(out, "kata-containers.qcow2"));
    expect(disk.verity?.params).toMatch(
      /^root_hash=[0-9a-f]{64},salt=[0-9a-f]+,data_blocks=\d+,data_block_size=4096,hash_block_size=4096$/,
    );
    expect(disk.cmdline).toContain("rootfstype=erofs");
    // qemu-img reads the qcow2 as the same disk the raw file is.
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "--output=json", disk.qcow2!], { encoding: "utf8" }),
    );
    expect(info.format).toBe("qcow2");
    expect(
      execFileSync("qemu-img", ["compare", "-f", "raw", "-F", "qcow2", disk.image!, disk.qcow2!], {
        encoding: "utf8",
      }),
    ).toContain("Images are identical");
    const manifest = JSON.parse(readFileSync(disk.manifest, "utf8"));
    expect(manifest.inputs.format).toBe("both");
    expect(manifest.outputs.map((o: { name: string }) => o.name)).toContain("kata-containers.qcow2");
    const ramdisk = await initrd({ rootfs: guest.root, out });
    expect(ramdisk.inputTreeSha256).toBe(disk.inputTreeSha256);

    const qcowOnly = await image({ rootfs: guest.root, format: "qcow2", out: work() });
    expect(qcowOnly.image).toBeUndefined();
    expect(qcowOnly.artifacts.some((a) => a.endsWith(".img"))).toBe(false);
  }, 180_000);

  it("records the input tree's hash: the same for a copy or a tarball of it, different after one byte", async () => {
    const copy = path.join(work(), "copy");
    cpSync(guest.root, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const tar = path.join(work(), "guest.tar");
    execFileSync("tar", ["-C", guest.root, "--numeric-owner", "-cf", tar, "."]);
    const a = await initrd({ rootfs: guest.root, out: work(), compression: "none" });
    const b = await initrd({ rootfs: copy, out: work(), compression: "none" });
    const c = await initrd({ rootfs: tar, out: work(), compression: "none" });
    expect(a.inputTreeSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.inputTreeSha256).toBe(a.inputTreeSha256);
    expect(c.inputTreeSha256).toBe(a.inputTreeSha256);
    const manifest = JSON.parse(readFileSync(c.manifest, "utf8"));
    expect(manifest.input.treeSha256).toBe(a.inputTreeSha256);
    expect(manifest.input.tarballSha256).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(path.join(copy, "etc", "hostname"), "changed\n");
    const d = await initrd({ rootfs: copy, out: work(), compression: "none" });
    expect(d.inputTreeSha256).not.toBe(a.inputTreeSha256);
  }, 180_000);

  it("throws a UsageError for a bad option and a BuildError for a failed build", async () => {
    await expect(image({ rootfs: guest.root, fs: "xfs" })).rejects.toBeInstanceOf(UsageError);
    await expect(image({ rootfs: guest.root, verity: true, dax: true, out: work() })).rejects.toBeInstanceOf(
      BuildError,
    );
    await expect(rootfs({ fromTar: smallBaseTar(), package: ["jq"], out: work() })).rejects.toThrow(
      "--package jq needs a package manager",
    );
  });
});

describe("runtimeConfig()", () => {
  it("plugs the verity image into the Kata runtime and writes a RuntimeClass", async () => {
    const out = work();
    const disk = await image({ rootfs: guest.root, verity: true, out });
    const kernel = path.join(out, "vmlinux");
    writeFileSync(kernel, "not a real kernel: runtime-config only names it");
    const result = await runtimeConfig({
      hypervisor: "clh",
      kernel,
      image: disk.image!,
      installDir: "/opt/kata/share/kata-build",
      agentParam: ["oci_runtime=runc", "agent.log=debug"],
      debugConsole: true,
      dialTimeout: 30,
      out: path.join(out, "runtime"),
    });
    const doc = parse(readFileSync(result.dropIn, "utf8")) as {
      hypervisor: { clh: Record<string, unknown> };
      agent: { kata: Record<string, unknown> };
    };
    expect(doc.hypervisor.clh).toEqual({
      kernel: "/opt/kata/share/kata-build/vmlinux",
      image: "/opt/kata/share/kata-build/kata-containers.img",
      rootfs_type: "ext4",
      kernel_verity_params: disk.verity!.params,
      disable_image_nvdimm: true,
      kernel_params: "agent.oci_runtime=runc agent.log=debug",
    });
    expect(doc.agent.kata).toEqual({ debug_console_enabled: true, dial_timeout: 30 });
    expect(readFileSync(result.runtimeClass, "utf8")).toContain('handler: "kata-clh"');
    // The verity parameters are the image's own, as its manifest and root_hash.txt record them.
    expect(readFileSync(`${disk.image}.root_hash.txt`, "utf8").trim()).toBe(disk.verity!.params);
  });

  it("checks agent settings with the agent's own loader", async () => {
    const out = work();
    const kernel = path.join(out, "vmlinux");
    writeFileSync(kernel, "");
    const ramdisk = await initrd({ rootfs: guest.root, out, compression: "none" });
    await expect(
      runtimeConfig({ kernel, initrd: ramdisk.initrd, agentParam: ["oci_runtim=runc"], out }),
    ).rejects.toThrow("the agent has no setting agent.oci_runtim (did you mean 'agent.oci_runtime'?)");
    await expect(
      runtimeConfig({ kernel, initrd: ramdisk.initrd, agentParam: ["log=loud"], out }),
    ).rejects.toThrow(/the agent would refuse its settings: agent.log: invalid value "loud"/);
    await expect(runtimeConfig({ kernel, out })).rejects.toThrow("give --image FILE or --initrd FILE");
    const qemu = await runtimeConfig({
      hypervisor: "qemu",
      kernel,
      initrd: ramdisk.initrd,
      out: path.join(out, "q"),
    });
    expect(parse(readFileSync(qemu.dropIn, "utf8"))).toEqual({
      hypervisor: { qemu: { kernel, initrd: ramdisk.initrd } },
    });
    expect(qemu.runtimeClassName).toBe("kata-qemu");
  });
});
