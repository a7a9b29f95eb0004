import { describe, expect, it } from "vitest";
import { mountsBeneath } from "../../../../builder/src/util/mounts.js";

const info = [
  "22 1 8:1 / / rw - ext4 /dev/vda rw",
  "40 22 0:5 / /out/.stage-1/rootfs/dev rw - devtmpfs udev rw",
  "41 40 0:6 / /out/.stage-1/rootfs/dev/pts rw - devpts devpts rw",
  "42 22 0:7 / /out/.stage-10/proc rw - proc proc rw",
  "43 22 0:8 / /out/.stage-1/with\\040a\\040space rw - tmpfs t rw",
].join("\n");

describe("mounts beneath a staging directory", () => {
  it("lists them deepest first, only under the directory, unescaping names", () => {
    expect(mountsBeneath("/out/.stage-1", info)).toEqual([
      "/out/.stage-1/rootfs/dev/pts",
      "/out/.stage-1/with a space",
      "/out/.stage-1/rootfs/dev",
    ]);
  });
});
