// What the bench reads from a node baseline boot's console: each `node -e 0` run on node's
// clock, and the kernel's initramfs unpacking from its own timestamps.
import { describe, expect, it } from "vitest";
import { parseInitramfsUnpack, parseNodeBaseline } from "../../../../builder/src/boot/node-baseline.js";

const console = [
  "[    0.037835] Freeing SMP alternatives memory: 20K",
  "[    0.687849] Unpacking initramfs...",
  "[    4.019875] Freeing initrd memory: 37400K",
  "[    4.214895] Freeing unused kernel image (initmem) memory: 924K",
  "kata-boot-check: node -e 0 run 1: 3432.6 ms",
  "kata-boot-check: node -e 0 run 2: 2424.5 ms",
  "kata-boot-check: node -e 0 run 3: 2392.7 ms",
  "kata-boot-check: node -e 0 done",
].join("\n");

describe("node baseline console", () => {
  it("reads every run in order", () => {
    expect(parseNodeBaseline(console)).toEqual([3432.6, 2424.5, 2392.7]);
  });

  it("times the initramfs unpacking from the kernel's timestamps, when it was one", () => {
    expect(parseInitramfsUnpack(console)).toBe(3332);
    expect(
      parseInitramfsUnpack(
        "[    0.5] Trying to unpack rootfs image as initramfs...\n[    1.25] Freeing initrd memory: 1K",
      ),
    ).toBe(750);
    expect(parseInitramfsUnpack("[    1.0] EXT4-fs (dm-0): mounted filesystem")).toBeUndefined();
  });
});
