// The OCI spec the boot check sends for its containers: the client's ordinary container (as
// containerd fills a Kubernetes container's spec) on a busybox root, which has only /bin.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { containerSpec, type SpecSchema } from "../../../agent/src/client/index.js";

export function bootCheckSpec(options: {
  rootPath: string;
  args: string[];
  hostname: string;
  terminal?: boolean;
  /** Further bind mounts of guest files, read-only: container path -> guest path. */
  binds?: Record<string, string>;
}): MessageInitShape<typeof SpecSchema> {
  return containerSpec({
    rootfs: options.rootPath,
    args: options.args,
    env: ["PATH=/bin", "HOME=/root"],
    hostname: options.hostname,
    terminal: options.terminal ?? false,
    // The guest's own os-release, so `cat /etc/os-release` in the container names the guest.
    readonlyBinds: { "/etc/os-release": "/etc/os-release", ...options.binds },
  });
}
