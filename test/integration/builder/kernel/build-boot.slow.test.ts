// Slow, not part of CI's default run: KATA_SLOW=1 npx vitest run --config test/vitest.config.ts \
//   test/integration/builder/kernel/build-boot.slow.test.ts
// Builds the kvm kernel from linux-source-6.1 (about 7-15 min cold on 2 cores, seconds when
// cached), boots its bzImage and its PVH vmlinux under QEMU TCG with a busybox initrd, then builds
// the mshv kernel, which cannot be booted here (no Microsoft hypervisor on this machine).
import { execFileSync } from "node:child_process";
import { openSync, readFileSync, readSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kernelBench } from "../../../../builder/src/boot/kernel-bench.js";
import { smokeBoot } from "../../../../builder/src/boot/smoke.js";
import { configValues } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { ensureKernel, type KernelArtifacts } from "../../../../builder/src/pipelines/kernel.js";
import { Progress } from "../../../../builder/src/util/progress.js";
import { kernelTestCache, requireKernelSource } from "../../../helpers/kernel-source.js";

const slow = process.env.KATA_SLOW === "1";
const progress = new Progress({ heartbeatSeconds: 60 });
const request = (hypervisor: "kvm" | "mshv") => ({
  hypervisor,
  arch: "x86_64" as const,
  source: requireKernelSource(),
  cacheDir: kernelTestCache(),
  progress,
});
const MB = 1e6;

function report(what: string, value: unknown): void {
  process.stderr.write(`[kernel slow test] ${what}: ${JSON.stringify(value)}\n`);
}

/** vmlinux carries Xen's PHYS32_ENTRY note (type 0x12), as readelf shows it. */
function expectPvhNote(vmlinux: string, entry: string | undefined): void {
  const notes = execFileSync("readelf", ["-n", vmlinux], { encoding: "utf8" });
  expect(notes).toMatch(/Xen\s+0x00000008\s+Unknown note type: \(0x00000012\)/);
  expect(entry).toMatch(/^0x[0-9a-f]+$/);
  const bytes = /\(0x00000012\)\s+description data: ((?:[0-9a-f]{2} ){8})/.exec(notes)![1]!.trim().split(" ");
  expect(`0x${BigInt(`0x${bytes.reverse().join("")}`).toString(16)}`).toBe(entry);
}

function expectBzImage(path: string): void {
  const header = Buffer.alloc(4);
  readSync(openSync(path, "r"), header, 0, 4, 0x202);
  expect(header.toString("latin1")).toBe("HdrS"); // the x86 boot protocol header
}

describe.runIf(slow)("kvm kernel: full build and TCG boot (set KATA_SLOW=1)", () => {
  let kvm: KernelArtifacts;

  it(
    "builds (or finds cached) vmlinux with the PVH note and a bzImage under 8 MB",
    async () => {
      kvm = await ensureKernel(request("kvm"));
      const m = kvm.manifest;
      report("kvm build", { cached: kvm.cached, build: m.build, release: m.release, artifacts: m.artifacts });
      expect(m.release).toBe("6.1.192-kata");
      expectPvhNote(kvm.vmlinux, m.pvhEntry);
      expectBzImage(kvm.bzImage);
      const bzImage = m.artifacts.find((a) => a.name === "bzImage")!;
      expect(bzImage.bytes).toBeLessThanOrEqual(8 * MB);
      const config = configValues(readFileSync(kvm.config, "utf8"));
      expect(config.get("VSOCKETS_LOOPBACK")).toBe("y");
      expect(config.get("MODULES")).toBe("n");
    },
    120 * 60_000,
  );

  it("boots the bzImage to /init and powers off (ACPI), with cgroup2 controllers", async () => {
    const boot = await smokeBoot({ kernel: kvm.bzImage, progress });
    report("bzImage boot", { markerSeconds: boot.markerSeconds, exitSeconds: boot.exitSeconds });
    expect(boot.release).toBe("6.1.192-kata");
    expect(boot.cgroupControllers).toEqual(
      expect.arrayContaining(["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "misc"]),
    );
  }, 300_000);

  it("boots the uncompressed vmlinux through its PVH entry (QEMU -kernel)", async () => {
    const boot = await smokeBoot({ kernel: kvm.vmlinux, progress });
    report("vmlinux (PVH) boot", { markerSeconds: boot.markerSeconds, exitSeconds: boot.exitSeconds });
    expect(boot.release).toBe("6.1.192-kata");
  }, 300_000);

  it("does not rebuild an unchanged kernel, and the bench hook reports the cold figures", async () => {
    const again = await ensureKernel(request("kvm"));
    expect(again.cached).toBe(true);
    expect(again.dir).toBe(kvm.dir);
    const bench = await kernelBench({ cacheDir: kernelTestCache(), progress });
    report("kernelBench()", bench);
    expect(bench.cached).toBe(true);
    expect(bench.buildSeconds).toBe(kvm.manifest.build!.seconds);
    expect(bench.bzImageBytes).toBeLessThanOrEqual(8 * MB);
    expect(bench.bootToMarkerSeconds).toBeGreaterThan(0);
  }, 300_000);
});

describe.runIf(slow)("mshv kernel: full build, not bootable here (set KATA_SLOW=1)", () => {
  it(
    "builds vmlinux (PVH) and bzImage with Hyper-V guest support",
    async () => {
      const mshv = await ensureKernel(request("mshv"));
      report("mshv build", {
        cached: mshv.cached,
        build: mshv.manifest.build,
        artifacts: mshv.manifest.artifacts,
      });
      expectPvhNote(mshv.vmlinux, mshv.manifest.pvhEntry);
      expectBzImage(mshv.bzImage);
      const config = configValues(readFileSync(mshv.config, "utf8"));
      for (const option of ["HYPERV", "HYPERV_TIMER", "HYPERV_IOMMU"])
        expect(config.get(option), option).toBe("y");
      // This machine has no /dev/mshv: the kernel cannot be booted on the Microsoft hypervisor here.
    },
    120 * 60_000,
  );
});
