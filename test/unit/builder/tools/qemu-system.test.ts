import { describe, expect, it } from "vitest";
import { MEMORY_SLOTS, qemuArgs } from "../../../../builder/src/tools/qemu-system.js";

const base = {
  kernel: "/k",
  cmdline: "quiet",
  memoryMiB: 1024,
  cpus: 2,
  console: { file: "/c.log" },
} as const;

/** The value following each occurrence of `flag`. */
const values = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

describe("qemu-system-x86_64 arguments", () => {
  it("attaches an image as a read-only, unarmed NVDIMM the way the runtime does", () => {
    const args = qemuArgs({ ...base, nvdimm: { path: "/img", bytes: 200 * 1048576 } });
    expect(values(args, "-machine")).toEqual(["q35,nvdimm=on"]);
    expect(values(args, "-m")).toEqual([`1024M,slots=${MEMORY_SLOTS},maxmem=${1024 + 200 + 1024}M`]);
    expect(values(args, "-device")).toContain("nvdimm,id=nv0,memdev=mem0,unarmed=on");
    expect(values(args, "-object")).toContain(
      `memory-backend-file,id=mem0,mem-path=/img,size=${200 * 1048576},readonly=on`,
    );
    expect(args).not.toContain("-drive");
  });

  it("gives the console as hvc0 on its own virtio-serial controller, or as ttyS0", () => {
    const hvc = qemuArgs({ ...base, consoleDevice: "virtconsole" });
    expect(values(hvc, "-device")).toEqual([
      "virtio-serial-pci,id=serial0,max_ports=2",
      "virtconsole,chardev=charconsole0,id=console0",
    ]);
    expect(values(hvc, "-chardev")).toEqual(["file,path=/c.log,id=charconsole0"]);
    expect(hvc).not.toContain("-serial");
    expect(values(qemuArgs(base), "-serial")).toEqual(["file:/c.log"]);
  });

  it("puts the agent's ports on a controller of their own", () => {
    const args = qemuArgs({
      ...base,
      consoleDevice: "virtconsole",
      serialPorts: [{ id: "agent", name: "agent.channel.0", socket: "/a.sock" }],
    });
    expect(values(args, "-device")).toContain("virtio-serial-pci,id=ports0");
    expect(values(args, "-device")).toContain(
      "virtserialport,bus=ports0.0,chardev=agent,name=agent.channel.0",
    );
  });
});
