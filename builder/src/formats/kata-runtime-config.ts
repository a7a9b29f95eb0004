// The Kata runtime's side of a guest: a configuration drop-in (TOML, merged by the runtime over
// its configuration.toml from the config.d/ directory beside it, in file-name order, each key
// overriding only itself) and the Kubernetes RuntimeClass that sends pods to it. Only fields
// the runtime reads are written, under the section names it reads them from.
import { stringify } from "smol-toml";

export type RuntimeHypervisor = "clh" | "qemu";

/** [hypervisor.<name>] fields this writer sets, as the runtime names them. */
export interface HypervisorFields {
  path?: string;
  kernel: string;
  image?: string;
  initrd?: string;
  /** ext4, xfs or erofs: how the runtime mounts the image's root. */
  rootfs_type?: string;
  /** root_hash=...,salt=...,data_blocks=...,data_block_size=...,hash_block_size=...: the runtime
   * opens the image's root through dm-verity (dm-mod.create) with these. */
  kernel_verity_params?: string;
  kernel_params?: string;
  /** true: the image is attached as a virtio-blk disk rather than an NVDIMM. */
  disable_image_nvdimm?: boolean;
  default_memory?: number;
  default_vcpus?: number;
}

/** [agent.kata] fields this writer sets. */
export interface AgentFields {
  enable_debug?: boolean;
  debug_console_enabled?: boolean;
  dial_timeout?: number;
  kernel_modules?: string[];
}

export interface DropIn {
  hypervisor: RuntimeHypervisor;
  fields: HypervisorFields;
  agent: AgentFields;
  /** Lines for the header comment (what made it, from what). */
  header: string[];
}

export function dropInToml(d: DropIn): string {
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ""));
  const agent = defined(d.agent);
  const body = stringify({
    hypervisor: { [d.hypervisor]: defined(d.fields) },
    ...(Object.keys(agent).length ? { agent: { kata: agent } } : {}),
  });
  return `${d.header.map((l) => `# ${l}`.trimEnd()).join("\n")}\n\n${body}\n`;
}

export interface RuntimeClass {
  name: string;
  handler: string;
  /** Pod overhead the scheduler adds for the VM, e.g. "130Mi" and "250m". */
  overheadMemory: string;
  overheadCpu: string;
  /** Nodes the pods may run on (labels with their values). */
  nodeSelector: Record<string, string>;
}

/** A YAML string value, quoted so it never reads as another type. */
const q = (s: string) => JSON.stringify(s);

export function runtimeClassYaml(rc: RuntimeClass): string {
  const selector = Object.entries(rc.nodeSelector);
  return [
    `# Pods with runtimeClassName: ${rc.name} run in a Kata VM through containerd's '${rc.handler}' handler.`,
    "apiVersion: node.k8s.io/v1",
    "kind: RuntimeClass",
    "metadata:",
    `  name: ${q(rc.name)}`,
    `handler: ${q(rc.handler)}`,
    "overhead:",
    "  podFixed:",
    `    memory: ${q(rc.overheadMemory)}`,
    `    cpu: ${q(rc.overheadCpu)}`,
    ...(selector.length
      ? ["scheduling:", "  nodeSelector:", ...selector.map(([k, v]) => `    ${q(k)}: ${q(v)}`)]
      : []),
    "",
  ].join("\n");
}
