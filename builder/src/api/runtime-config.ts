// runtimeConfig(): plugs a built guest into Kata. Writes a configuration drop-in for the Kata
// runtime (config.d/NAME.toml: the kernel, the image or initrd, the image's filesystem and
// dm-verity parameters from its manifest, kernel parameters, agent settings) and a Kubernetes
// RuntimeClass manifest. Agent parameters are checked with the agent's own settings loader, so
// a typo fails here rather than as a warning in the guest's log.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { didYouMean, UsageError } from "../../../agent/src/cli/index.js";
import { ConfigError, loadConfig } from "../../../agent/src/config/load.js";
import { settings } from "../../../agent/src/config/table.js";
import {
  type AgentFields,
  dropInToml,
  type HypervisorFields,
  type RuntimeHypervisor,
  runtimeClassYaml,
} from "../formats/kata-runtime-config.js";
import { BuildError } from "../util/errors.js";
import { TOOL_NAME } from "../util/manifest.js";
import type { Given, OptionTable } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import { withStaging } from "../workspace/atomic.js";
import type { BuildHooks } from "./hooks.js";
import { outOption } from "./shared-options.js";

/** kata-deploy's pod overhead for each hypervisor (memory, cpu). */
const OVERHEAD: Record<RuntimeHypervisor, [string, string]> = {
  clh: ["130Mi", "250m"],
  qemu: ["320Mi", "250m"],
};
/** The label kata-deploy puts on the nodes it installed Kata on. */
const KATA_NODE_LABEL = "katacontainers.io/kata-runtime=true";

export const runtimeConfigOptions = {
  hypervisor: {
    kind: "string",
    arg: "NAME",
    choices: ["clh", "qemu"],
    default: "clh",
    help: "the runtime's hypervisor section: Cloud Hypervisor or QEMU",
  },
  kernel: {
    kind: "string",
    arg: "FILE",
    path: true,
    required: true,
    help: "the guest kernel (Cloud Hypervisor boots vmlinux through its PVH entry; QEMU takes either)",
  },
  image: {
    kind: "string",
    arg: "FILE",
    path: true,
    help: "the raw disk image (its NAME.manifest.json is read)",
  },
  initrd: { kind: "string", arg: "FILE", path: true, help: "the initrd (instead of an image)" },
  installDir: {
    kind: "string",
    arg: "DIR",
    help: "where the kernel and image will be on the Kata host (default: where they are now)",
  },
  kernelParams: { kind: "string", arg: "PARAMS", help: "extra kernel parameters" },
  agentParam: {
    kind: "strings",
    arg: "agent.KEY=VALUE",
    help: "an agent setting on the kernel command line, checked against the agent's settings (repeatable)",
  },
  agentDebug: { kind: "boolean", help: "the agent logs at debug level ([agent.kata] enable_debug)" },
  debugConsole: {
    kind: "boolean",
    help: "enable the agent's debug console ([agent.kata] debug_console_enabled)",
  },
  dialTimeout: {
    kind: "number",
    arg: "SECONDS",
    help: "how long the runtime waits for the agent ([agent.kata] dial_timeout)",
  },
  kernelModule: {
    kind: "strings",
    arg: "MODULE",
    help: "a kernel module the agent loads at start (repeatable)",
  },
  memory: { kind: "number", arg: "MiB", help: "guest memory (default_memory)" },
  vcpus: { kind: "number", arg: "N", help: "guest vCPUs (default_vcpus)" },
  hypervisorPath: { kind: "string", arg: "FILE", help: "the hypervisor binary (path)" },
  name: {
    kind: "string",
    arg: "NAME",
    help: "the RuntimeClass name (default: the handler's)",
  },
  handler: {
    kind: "string",
    arg: "NAME",
    help: "containerd's runtime handler for this configuration (default: kata-HYPERVISOR, kata-deploy's)",
  },
  dropIn: {
    kind: "string",
    arg: "FILE",
    default: "50-kata-build.toml",
    help: "the drop-in's file name in config.d/",
  },
  overheadMemory: {
    kind: "string",
    arg: "QUANTITY",
    help: "pod overhead memory (default: kata-deploy's, 130Mi clh, 320Mi qemu)",
  },
  overheadCpu: { kind: "string", arg: "QUANTITY", help: "pod overhead CPU (default: 250m)" },
  nodeSelector: {
    kind: "strings",
    arg: "LABEL=VALUE",
    help: `nodes the pods may run on (repeatable; default: ${KATA_NODE_LABEL}, the label kata-deploy sets)`,
  },
  out: outOption("out/runtime-config"),
} as const satisfies OptionTable;

export type RuntimeConfigOptions = Given<typeof runtimeConfigOptions>;

export interface RuntimeConfigResult {
  /** OUT/config.d/DROP-IN: copy it into the config.d/ beside the handler's configuration.toml. */
  dropIn: string;
  /** OUT/runtimeclass.yaml: kubectl apply -f it. */
  runtimeClass: string;
  hypervisor: RuntimeHypervisor;
  /** The drop-in's settings as written. */
  settings: { hypervisor: HypervisorFields; agent: AgentFields };
  runtimeClassName: string;
  handler: string;
}

interface ImageManifest {
  inputs?: { fs?: unknown; dax?: unknown };
  verity?: { params?: unknown };
}

export async function runtimeConfig(
  options: RuntimeConfigOptions,
  _hooks: BuildHooks = {},
): Promise<RuntimeConfigResult> {
  const o = resolveOptions(runtimeConfigOptions, options);
  const hypervisor = o.hypervisor as RuntimeHypervisor;
  if (!o.image === !o.initrd) {
    throw new UsageError("give --image FILE or --initrd FILE (the runtime boots one of them)");
  }
  const kernel = o.kernel!;
  for (const file of [kernel, o.image, o.initrd]) {
    if (file && !existsSync(file))
      throw new BuildError(`${file} does not exist`, "build it with kata-build first");
  }
  const onHost = (file: string) => (o.installDir ? join(o.installDir, basename(file)) : file);
  const fields: HypervisorFields = {
    kernel: onHost(kernel),
    ...(o.hypervisorPath ? { path: o.hypervisorPath } : {}),
  };
  if (o.image) Object.assign(fields, imageFields(o.image, onHost(o.image)));
  else fields.initrd = onHost(o.initrd!);
  const params = [o.kernelParams, ...(o.agentParam ?? []).map(agentParam)].filter(Boolean).join(" ");
  checkAgentParams(params);
  if (params) fields.kernel_params = params;
  if (o.memory !== undefined) fields.default_memory = positive(o.memory, "--memory");
  if (o.vcpus !== undefined) fields.default_vcpus = positive(o.vcpus, "--vcpus");
  const agent: AgentFields = {
    ...(o.agentDebug ? { enable_debug: true } : {}),
    ...(o.debugConsole ? { debug_console_enabled: true } : {}),
    ...(o.dialTimeout !== undefined ? { dial_timeout: positive(o.dialTimeout, "--dial-timeout") } : {}),
    ...(o.kernelModule?.length ? { kernel_modules: o.kernelModule } : {}),
  };
  const handler = o.handler ?? `kata-${hypervisor}`;
  const name = o.name ?? handler;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(handler)) {
    throw new UsageError(`--handler '${handler}' must be a DNS label (lower-case letters, digits and '-')`);
  }
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    throw new UsageError(
      `--name '${name}' must be a DNS subdomain (lower-case letters, digits, '-' and '.')`,
    );
  }
  if (!/^[\w.-]+\.toml$/.test(o.dropIn))
    throw new UsageError(`--drop-in '${o.dropIn}' must be a file name ending in .toml`);
  const toml = dropInToml({
    hypervisor,
    fields,
    agent,
    header: [
      `Written by ${TOOL_NAME} runtime-config for the Kata runtime's ${hypervisor} configuration.`,
      "Copy it into the config.d/ directory beside the configuration.toml the handler uses (e.g.",
      "/etc/kata-containers/config.d/, or kata-deploy's /opt/kata/share/defaults/kata-containers/",
      `runtimes/${hypervisor}/config.d/); the runtime merges it over that file, key by key.`,
    ],
  });
  const [memory, cpu] = OVERHEAD[hypervisor];
  const yaml = runtimeClassYaml({
    name,
    handler,
    overheadMemory: o.overheadMemory ?? memory,
    overheadCpu: o.overheadCpu ?? cpu,
    nodeSelector: Object.fromEntries((o.nodeSelector ?? [KATA_NODE_LABEL]).map(label)),
  });
  await withStaging(o.out, async (staging) => {
    await mkdir(staging.path("config.d"), { recursive: true });
    await writeFile(staging.path(join("config.d", o.dropIn)), toml);
    await writeFile(staging.path("runtimeclass.yaml"), yaml);
    return { artifacts: ["config.d", "runtimeclass.yaml"] };
  });
  return {
    dropIn: join(o.out, "config.d", o.dropIn),
    runtimeClass: join(o.out, "runtimeclass.yaml"),
    hypervisor,
    settings: { hypervisor: fields, agent },
    runtimeClassName: name,
    handler,
  };
}

/** What the image's manifest says about it: filesystem, DAX header, dm-verity parameters. */
function imageFields(image: string, path: string): Partial<HypervisorFields> {
  if (image.endsWith(".qcow2")) {
    throw new UsageError(
      "the Kata runtime attaches the image as a raw file: give the raw image (kata-build image --format raw or both)",
    );
  }
  const manifestFile = `${image}.manifest.json`;
  if (!existsSync(manifestFile)) {
    throw new BuildError(
      `no ${manifestFile}: cannot tell the image's filesystem and dm-verity parameters`,
      "give an image made by kata-build image (its manifest lies beside it)",
    );
  }
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as ImageManifest;
  const fs = manifest.inputs?.fs === "erofs" ? "erofs" : "ext4";
  const dax = manifest.inputs?.dax === true;
  const params = typeof manifest.verity?.params === "string" ? manifest.verity.params : undefined;
  return {
    image: path,
    rootfs_type: fs,
    ...(params ? { kernel_verity_params: params } : {}),
    // Our images are partitioned for virtio-blk unless they carry the NVDIMM/DAX header.
    disable_image_nvdimm: !dax,
  };
}

/** "log=debug" or "agent.log=debug" as agent.log=debug. */
function agentParam(text: string): string {
  const param = text.startsWith("agent.") ? text : `agent.${text}`;
  if (!/^agent\.[\w.]+(=.*)?$/.test(param))
    throw new UsageError(`--agent-param '${text}' must be agent.KEY=VALUE`);
  return param;
}

/** Loads the parameters as the agent will; unknown or malformed agent settings are errors. */
function checkAgentParams(cmdline: string): void {
  let warnings: string[];
  try {
    warnings = loadConfig({ cmdline, env: {} }).warnings;
  } catch (err) {
    if (err instanceof ConfigError)
      throw new UsageError(`the agent would refuse its settings: ${err.message}`);
    throw err;
  }
  const known = Object.values(settings).flatMap((s) => (s.cmdline ? [s.cmdline] : []));
  for (const warning of warnings) {
    const unknown = /unknown kernel parameter '([^']+)'/.exec(warning)?.[1];
    if (unknown) throw new UsageError(`the agent has no setting ${unknown}${didYouMean(unknown, known)}`);
  }
}

function label(text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--node-selector '${text}' must be LABEL=VALUE`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function positive(n: number, flag: string): number {
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive whole number, not ${n}`);
  return n;
}
