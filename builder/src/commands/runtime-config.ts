// kata-build runtime-config: the Kata runtime's configuration drop-in and a RuntimeClass for a
// built guest (the library's runtimeConfig()).
import { runtimeConfig, runtimeConfigOptions } from "../api/runtime-config.js";
import { defineCommand } from "./command.js";

export const runtimeConfigCommand = defineCommand({
  name: "runtime-config",
  summary: "write the Kata runtime's configuration drop-in and a Kubernetes RuntimeClass for a guest",
  usage: "kata-build runtime-config --hypervisor clh|qemu --kernel FILE --image FILE|--initrd FILE [options]",
  description: [
    "Writes OUT/config.d/DROP-IN, a drop-in for the Kata runtime's configuration: [hypervisor.clh] or",
    "[hypervisor.qemu] with the kernel, the image (its filesystem as rootfs_type and, for a dm-verity",
    "image, kernel_verity_params, both from IMAGE.manifest.json; attached as virtio-blk unless the image",
    "has the DAX header) or the initrd, kernel_params (with --agent-param settings, checked against the",
    "agent's own), and [agent.kata] settings. The runtime merges the files of the config.d/ directory",
    "beside its configuration.toml over it, in name order, key by key. Also writes OUT/runtimeclass.yaml,",
    "the RuntimeClass that sends pods to the handler (kubectl apply -f), with kata-deploy's pod overhead.",
    "With --install-dir, the paths written are where the files will be on the Kata host.",
  ].join("\n"),
  options: runtimeConfigOptions,
  configurable: true,
  run: (values, _positionals, { hooks }) => runtimeConfig(values, hooks),
  text: (result) =>
    [
      `drop-in        ${result.dropIn}  ([hypervisor.${result.hypervisor}], [agent.kata])`,
      `RuntimeClass   ${result.runtimeClass}  (${result.runtimeClassName}, handler ${result.handler})`,
      "",
    ].join("\n"),
});
