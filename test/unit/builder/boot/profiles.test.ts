// The command lines each profile builds, checked against the lines the Kata Go runtime gives a
// non-debug guest (see builder/src/boot/profiles.ts for where each part comes from).
import { describe, expect, it } from "vitest";
import { bootCmdline, harnessParams, vmRoot } from "../../../../builder/src/boot/index.js";
import { type BootRoot, PROFILES, profileNamed } from "../../../../builder/src/boot/profiles.js";
import type { VerityParams } from "../../../../builder/src/formats/kernel-cmdline.js";

const verity: VerityParams = {
  rootHash: "ab".repeat(32),
  salt: "cd".repeat(32),
  dataBlocks: 1000,
  dataBlockSize: 4096,
  hashBlockSize: 4096,
  hashAlgorithm: "sha256",
};
const verityImage: BootRoot = { kind: "image", path: "/i.img", fs: "ext4", dax: false, verity };
const daxImage: BootRoot = { kind: "image", path: "/d.img", fs: "ext4", dax: true };
const initrd: BootRoot = { kind: "initrd", path: "/i.initrd" };

describe("runtime-clh", () => {
  const clh = PROFILES["runtime-clh"];

  it("is the root from kernel_verity_params, CLH's parameters, quiet, the systemd unit and the agent's", () => {
    expect(clh.cmdline(verityImage, 2)).toBe(
      [
        `dm-mod.create="dm-verity,,,ro,0 8000 verity 1 /dev/vda1 /dev/vda2 4096 4096 1000 0 sha256 ${verity.rootHash} ${verity.salt}"`,
        "root=/dev/dm-0 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4",
        "panic=1 no_timer_check noreplace-smp quiet console=hvc0",
        "systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service systemd.mask=systemd-networkd.socket",
        "agent.cdh_api_timeout=50",
      ].join(" "),
    );
    expect(clh.attach).toBe("disk");
    expect(clh.console).toBe("virtconsole");
  });

  it("leaves the systemd unit out for an initrd", () => {
    expect(clh.cmdline(initrd, 1)).not.toContain("systemd.unit");
  });
});

describe("runtime-qemu-nvdimm", () => {
  const qemu = PROFILES["runtime-qemu-nvdimm"];

  it("is QEMU's x86_64 line with the root on the NVDIMM with DAX", () => {
    expect(qemu.cmdline(daxImage, 2)).toBe(
      [
        "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1",
        "i8042.noaux=1 noreplace-smp reboot=k cryptomgr.notests net.ifnames=0 pci=lastbus=0",
        "root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4",
        "console=hvc0 console=hvc1 quiet systemd.show_status=false panic=1 nr_cpus=2 selinux=0",
        "systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service systemd.mask=systemd-networkd.socket",
        "scsi_mod.scan=none agent.cdh_api_timeout=50",
      ].join(" "),
    );
    expect(vmRoot(qemu, daxImage)).toEqual({ kind: "nvdimm", path: "/d.img" });
  });

  it("refuses an image without the DAX header, saying how to build one", () => {
    expect(() => qemu.cmdline({ ...daxImage, dax: false }, 1)).toThrow(/no NVDIMM\/DAX header/);
  });
});

describe("ours and the boot harness", () => {
  it("boots a verity image from dm-mod.create on virtio-blk with the serial console", () => {
    const line = bootCmdline({
      profile: profileNamed("ours"),
      root: verityImage,
      init: "agent",
      cpus: 2,
      agentLogLevel: "info",
      append: "foo=1",
    });
    expect(line).toMatch(/^console=ttyS0 .*dm-mod\.create=".*" root=\/dev\/dm-0 rootfstype=ext4 /);
    expect(line).toMatch(/ agent\.server_addr=serial:\/\/agent\.channel\.0,vsock:\/\/-1:1024 /);
    expect(line).toMatch(/ agent\.log=info /);
    expect(line).toMatch(/ init=\/usr\/lib\/kata-agent\/boot-check-init foo=1$/);
  });

  it("starts the bridge wrapper only when the agent is init", () => {
    expect(harnessParams({ init: "agent", rootKind: "initrd", agentLogLevel: "debug" })).toContain(
      "rdinit=/usr/lib/kata-agent/boot-check-init",
    );
    expect(harnessParams({ init: "systemd", rootKind: "image", agentLogLevel: "info" })).not.toMatch(/init=/);
  });

  it("allows vsock loopback for the bridge unless told to boot the agent as deployed", () => {
    const base = { init: "agent", rootKind: "image", agentLogLevel: "info" } as const;
    expect(harnessParams(base)).toMatch(/ agent\.allow_vsock_loopback /);
    expect(harnessParams({ ...base, vsockLoopback: false })).not.toContain("allow_vsock_loopback");
    // The debug console as the runtime enables it, and on a port this host can reach.
    expect(harnessParams(base)).toContain(
      "agent.debug_console agent.debug_console_vport=1026 agent.debug_console_addr=serial://agent.console.0",
    );
  });

  it("names the profiles it knows when given another", () => {
    expect(() => profileNamed("firecracker")).toThrow(/unknown boot profile 'firecracker'/);
  });
});
