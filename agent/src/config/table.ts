// Every agent setting, once: where it comes from (kernel command line, environment, TOML key),
// its type, default and meaning. Loading, validation and `kata-agent --help` all read this table.
import type { Level } from "../log.js";
import type { Address } from "../transport/address.js";
import * as v from "./values.js";

export interface Setting<T> {
  /** Kernel command line parameter, e.g. "agent.server_addr". */
  cmdline?: string;
  /** The parameter may also appear as a bare word (e.g. "agent.debug_console"), meaning true. */
  flag?: boolean;
  env?: string;
  /** Key in the TOML config file. */
  toml?: string;
  default: T;
  parse(raw: v.RawValue): T;
  help: string;
  /**
   * Accepted for compatibility with upstream's agent but not acted on: why. When the setting is
   * given (and `honours` does not accept the value), the agent logs one warning naming it.
   */
  unsupported?: string;
  /** The values this agent's behaviour already matches (e.g. "off" for a feature it lacks). */
  honours?: (value: T) => boolean;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;
const SERVER_SCHEMES = ["vsock", "unix", "tcp", "serial"] as const;
const GUEST_COMPONENT_PROCS = [
  "none",
  "attestation-agent",
  "confidential-data-hub",
  "api-server-rest",
] as const;
const isFalse = (value: boolean) => !value;
const isEmpty = (value: string) => value === "";

export const settings = {
  serverAddr: setting<Address[]>({
    cmdline: "agent.server_addr",
    env: "KATA_AGENT_SERVER_ADDR",
    toml: "server_addr",
    default: [{ scheme: "vsock", cid: 0xffffffff, port: 1024 }],
    parse: v.addressList(...SERVER_SCHEMES),
    help: "ttrpc listen address: vsock://-1:1024, unix://path, unix://@name, tcp://host:port or serial://port-name; several may be given, comma-separated",
  }),
  grpcAddr: setting<Address | undefined>({
    cmdline: "agent.grpc_addr",
    env: "KATA_AGENT_GRPC_ADDR",
    toml: "grpc_addr",
    default: undefined,
    parse: v.optionalAddress(...SERVER_SCHEMES),
    help: "also serve HTTP/2 gRPC (with server reflection) on this address; off when unset",
  }),
  logLevel: setting<Level>({
    cmdline: "agent.log",
    env: "KATA_AGENT_LOG_LEVEL",
    toml: "log_level",
    default: "info",
    parse: v.level,
    help: "trace, debug, info, warn, error or critical (SIGUSR1 raises it while running, SIGUSR2 restores it)",
  }),
  logVport: setting<number>({
    cmdline: "agent.log_vport",
    toml: "log_vport",
    default: 0,
    parse: v.uint,
    help: "send logs to the first client of this vsock port instead of stderr (0: stderr)",
  }),
  debugConsole: setting<boolean>({
    cmdline: "agent.debug_console",
    flag: true,
    toml: "debug_console",
    default: false,
    parse: v.bool,
    help: "serve a root shell with a terminal: on debug_console_vport (as `kata-runtime exec` expects) and debug_console_addr, or else on /dev/console",
  }),
  debugConsoleVport: setting<number>({
    cmdline: "agent.debug_console_vport",
    toml: "debug_console_vport",
    default: 0,
    parse: v.uint,
    help: "vsock port of the debug console (the runtime passes 1026; 0: no vsock port)",
  }),
  debugConsoleAddr: setting<Address[]>({
    cmdline: "agent.debug_console_addr",
    env: "KATA_AGENT_DEBUG_CONSOLE_ADDR",
    toml: "debug_console_addr",
    default: [],
    parse: v.optionalAddressList("vsock", "unix", "tcp", "serial"),
    help: "more debug console addresses, comma-separated: vsock://CID:PORT, unix://PATH, tcp://HOST:PORT, serial://PORT-NAME (a virtio-serial port); not upstream's, for hosts without vsock and for tests",
  }),
  devMode: setting<boolean>({
    cmdline: "agent.devmode",
    flag: true,
    toml: "dev_mode",
    default: false,
    parse: v.bool,
    help: "development mode",
    unsupported: "it has no effect here, as in upstream's agent",
    honours: isFalse,
  }),
  tracing: setting<boolean>({
    cmdline: "agent.trace",
    flag: true,
    env: "KATA_AGENT_TRACING",
    toml: "tracing",
    default: false,
    parse: v.bool,
    help: "OpenTelemetry tracing of the agent's calls",
    unsupported: "this agent has no tracing exporter; agent.log=debug logs each call instead",
    honours: isFalse,
  }),
  hotplugTimeoutMs: setting<number>({
    cmdline: "agent.hotplug_timeout",
    toml: "hotplug_timeout",
    default: 3000,
    parse: v.seconds,
    help: "seconds to wait for a hot-plugged device to appear",
  }),
  containerPipeSize: setting<number>({
    cmdline: "agent.container_pipe_size",
    toml: "container_pipe_size",
    default: 1 << 20,
    parse: v.uint,
    help: "size in bytes of container stdout/stderr pipes: what a process writes while nobody reads (0: the kernel's 64 KiB)",
  }),
  unifiedCgroupHierarchy: setting<boolean>({
    cmdline: "systemd.unified_cgroup_hierarchy",
    toml: "unified_cgroup_hierarchy",
    default: false,
    parse: v.bool,
    help: "mount cgroup v2 only (also set by cgroup_no_v1=all)",
    unsupported: "as PID 1 this agent always mounts cgroup v2 only; cgroup v1 is not offered",
    honours: (value) => value,
  }),
  ociRuntime: setting<string>({
    cmdline: "agent.oci_runtime",
    env: "KATA_AGENT_OCI_RUNTIME",
    toml: "oci_runtime",
    default: "auto",
    parse: v.text,
    help: "OCI runtime for containers: crun, runc, a path, or auto (crun if installed and this host's cgroup layout lets it run containers, else runc)",
  }),
  runDir: setting<string>({
    cmdline: "agent.run_dir",
    env: "KATA_AGENT_RUN_DIR",
    toml: "run_dir",
    default: "/run/kata-containers",
    parse: v.text,
    help: "where container bundles and sandbox state live",
  }),
  inGuest: setting<boolean | undefined>({
    env: "KATA_AGENT_IN_GUEST",
    toml: "in_guest",
    default: undefined,
    parse: v.bool,
    help: "whether to act on the guest itself (hostname, /etc/resolv.conf, kernel modules, bus rescans); unset: yes as PID 1 or as a systemd service, otherwise no",
  }),
  allowVsockLoopback: setting<boolean>({
    cmdline: "agent.allow_vsock_loopback",
    flag: true,
    env: "KATA_AGENT_ALLOW_VSOCK_LOOPBACK",
    toml: "allow_vsock_loopback",
    default: false,
    parse: v.bool,
    help: "accept vsock connections from inside this VM (CID 1 or its own CID), which otherwise are refused so that containers cannot reach the agent, its debug console or its log port",
  }),
  policyFile: setting<string>({
    cmdline: "agent.policy_file",
    env: "KATA_AGENT_POLICY_FILE",
    toml: "policy_file",
    default: "",
    parse: v.text,
    help: "agent policy loaded at start (empty: allow every request)",
  }),
  passfdListenerPort: setting<number>({
    cmdline: "agent.passfd_listener_port",
    toml: "passfd_listener_port",
    default: 0,
    parse: v.uint,
    help: "runtime-rs passfd I/O listener port (0: off)",
    unsupported: "container I/O goes through ReadStdout/WriteStdin only",
    honours: (port) => port === 0,
  }),
  cdhApiTimeoutMs: setting<number>({
    cmdline: "agent.cdh_api_timeout",
    toml: "cdh_api_timeout",
    default: 50_000,
    parse: v.seconds,
    help: "confidential data hub call timeout",
    unsupported: "this agent has no confidential data hub",
  }),
  imagePullTimeoutMs: setting<number>({
    cmdline: "agent.image_pull_timeout",
    toml: "image_pull_timeout",
    default: 1_200_000,
    parse: v.seconds,
    help: "guest image pull timeout",
    unsupported: "this agent does not pull images in the guest",
  }),
  cdiTimeoutMs: setting<number>({
    cmdline: "agent.cdi_timeout",
    toml: "cdi_timeout",
    default: 100_000,
    parse: v.seconds,
    help: "wait for CDI device specs",
    unsupported: "this agent does not read CDI device specs",
  }),
  launchProcessTimeoutMs: setting<number>({
    cmdline: "agent.launch_process_timeout",
    toml: "launch_process_timeout",
    default: 6000,
    parse: v.seconds,
    help: "confidential guest component start timeout",
    unsupported: "this agent starts no confidential guest components",
  }),
  visibleCdiDevices: setting<boolean>({
    cmdline: "agent.visible_cdi_devices",
    toml: "visible_cdi_devices",
    default: false,
    parse: v.bool,
    help: "map VISIBLE_CDI_DEVICES to CDI devices",
    unsupported: "this agent does not read CDI device specs",
    honours: isFalse,
  }),
  guestComponentsRestApi: setting({
    cmdline: "agent.guest_components_rest_api",
    toml: "guest_components_rest_api",
    default: "resource" as const,
    parse: v.oneOf("all", "attestation", "resource"),
    help: "confidential guest components REST API features",
    unsupported: "this agent starts no confidential guest components",
  }),
  guestComponentsProcs: setting<(typeof GUEST_COMPONENT_PROCS)[number]>({
    cmdline: "agent.guest_components_procs",
    toml: "guest_components_procs",
    default: "api-server-rest",
    parse: v.oneOf(...GUEST_COMPONENT_PROCS),
    help: "confidential guest components to start",
    unsupported: "this agent starts no confidential guest components",
    honours: (procs) => procs === "none",
  }),
  secureStorageIntegrity: setting<boolean>({
    cmdline: "agent.secure_storage_integrity",
    toml: "secure_storage_integrity",
    // Upstream's default is true; here the default says what this agent does.
    default: false,
    parse: v.bool,
    help: "dm-integrity under encrypted storage (encryption_key=ephemeral)",
    unsupported: "encrypted storage is LUKS2 without dm-integrity: confidential, not tamper-evident",
    honours: isFalse,
  }),
  httpsProxy: setting<string>({
    cmdline: "agent.https_proxy",
    toml: "https_proxy",
    default: "",
    parse: v.text,
    help: "HTTPS proxy for image pulls in the guest",
    unsupported: "this agent does not pull images in the guest",
    honours: isEmpty,
  }),
  noProxy: setting<string>({
    cmdline: "agent.no_proxy",
    toml: "no_proxy",
    default: "",
    parse: v.text,
    help: "proxy exclusions for image pulls in the guest",
    unsupported: "this agent does not pull images in the guest",
    honours: isEmpty,
  }),
  memAgentEnable: setting<boolean>({
    cmdline: "agent.mem_agent_enable",
    toml: "mem_agent_enable",
    default: false,
    parse: v.bool,
    help: "enable the memory agent (memcg reclaim and compaction tuning)",
  }),
  shutdownGraceMs: setting<number>({
    cmdline: "agent.shutdown_grace",
    toml: "shutdown_grace",
    default: 5000,
    parse: v.seconds,
    help: "on SIGTERM, seconds calls in flight may take to finish before connections close",
  }),
  partialFrameTimeoutMs: setting<number>({
    cmdline: "agent.partial_frame_timeout",
    env: "KATA_AGENT_PARTIAL_FRAME_TIMEOUT",
    toml: "partial_frame_timeout",
    default: 10_000,
    parse: v.seconds,
    help: "seconds a client may stop in the middle of a ttrpc frame before its connection is closed (0: never)",
  }),
};

/** The memory agent's tuning knobs: accepted and passed to MemAgent*Set defaults (upstream names). */
export const memAgentParameters: Record<string, (raw: v.RawValue) => unknown> = {
  memcg_disable: v.bool,
  memcg_swap: v.bool,
  memcg_swappiness_max: v.uint,
  memcg_period_secs: v.uint,
  memcg_period_psi_percent_limit: v.uint,
  memcg_eviction_psi_percent_limit: v.uint,
  memcg_eviction_run_aging_count_min: v.uint,
  compact_disable: v.bool,
  compact_period_secs: v.uint,
  compact_period_psi_percent_limit: v.uint,
  compact_psi_percent_limit: v.uint,
  compact_sec_max: (raw) => Number(v.text(raw)),
  compact_order: v.uint,
  compact_threshold: v.uint,
  compact_force_times: v.uint,
};

export type Settings = typeof settings;
export type AgentConfig = { [K in keyof Settings]: Settings[K]["default"] } & {
  memAgent: Record<string, unknown>;
};
