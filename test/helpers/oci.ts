// Container fixtures for tests: a busybox root filesystem built from Debian's busybox-static,
// OCI specs derived from the runtime's own `spec` template, and the OCI runtimes to test with.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { fromRuntimeSpec, type SpecSchema } from "../../agent/src/client/index.js";

let rootfsDir: string | undefined;

/** A busybox root filesystem (one per test process): /bin/busybox and its applet links. */
export function busyboxRootfs(): string {
  if (rootfsDir) return rootfsDir;
  const dir = mkdtempSync(path.join(tmpdir(), "busybox-rootfs-"));
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc", "root"])
    mkdirSync(path.join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", path.join(dir, "bin/busybox"));
  chmodSync(path.join(dir, "bin/busybox"), 0o755);
  // Relative links: `busybox --install -s` would point them at the host path of busybox.
  for (const applet of execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n")) {
    if (applet && applet !== "busybox") symlinkSync("busybox", path.join(dir, "bin", applet));
  }
  writeFileSync(
    path.join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  writeFileSync(path.join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  rootfsDir = dir;
  return dir;
}

let template: unknown;

/** runc's default config.json: the namespaces, mounts, capabilities and masks a real container gets. */
function specTemplate(): unknown {
  if (template) return template;
  const dir = mkdtempSync(path.join(tmpdir(), "spec-template-"));
  execFileSync("runc", ["spec", "--bundle", dir]);
  template = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
  return template;
}

export interface SpecOptions {
  args: string[];
  terminal?: boolean;
  env?: string[];
  cwd?: string;
  /** linux.resources.memory.limit in bytes. */
  memoryLimit?: number;
  pidsLimit?: number;
  hostname?: string;
  annotations?: Record<string, string>;
  mounts?: { destination: string; source: string; type: string; options: string[] }[];
  cgroupsPath?: string;
}

/** A protobuf OCI Spec as the Kata runtime would send it, for a busybox container. */
export function containerSpec(options: SpecOptions): MessageInitShape<typeof SpecSchema> {
  const json = structuredClone(specTemplate()) as {
    process: { args: string[]; terminal: boolean; env: string[]; cwd: string };
    root: { path: string; readonly: boolean };
    hostname: string;
    mounts: unknown[];
    annotations?: Record<string, string>;
    linux: { resources?: Record<string, unknown>; cgroupsPath?: string; namespaces: { type: string }[] };
  };
  json.process.args = options.args;
  json.process.terminal = options.terminal ?? false;
  if (options.env) json.process.env = [...json.process.env, ...options.env];
  json.process.cwd = options.cwd ?? "/";
  json.root = { path: busyboxRootfs(), readonly: false };
  json.hostname = options.hostname ?? "kata-test";
  if (options.mounts) json.mounts = [...json.mounts, ...options.mounts];
  if (options.annotations) json.annotations = options.annotations;
  const resources: Record<string, unknown> = { ...(json.linux.resources ?? {}) };
  if (options.memoryLimit) resources.memory = { limit: options.memoryLimit, swap: options.memoryLimit };
  if (options.pidsLimit) resources.pids = { limit: options.pidsLimit };
  json.linux.resources = resources;
  if (options.cgroupsPath) json.linux.cgroupsPath = options.cgroupsPath;
  return fromRuntimeSpec(json);
}

let crunWrapperPath: string | undefined;

/**
 * crun refuses this host's hybrid cgroup layout (a cgroup2 with only hugetlb at
 * /sys/fs/cgroup/unified); in a private mount namespace without that mount it runs in v1 mode.
 * A guest has a plain cgroup2 and needs no wrapper.
 */
export function crunWrapper(): string {
  if (crunWrapperPath && existsSync(crunWrapperPath)) return crunWrapperPath;
  const dir = mkdtempSync(path.join(tmpdir(), "crun-wrapper-"));
  const file = path.join(dir, "crun");
  writeFileSync(
    file,
    `#!/bin/sh\n# crun in a mount namespace without the hybrid host's cgroup2 mount\nexec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"' crun "$@"\n`,
  );
  chmodSync(file, 0o755);
  crunWrapperPath = file;
  return file;
}

/** The OCI runtimes every container test runs against, as KATA_AGENT_OCI_RUNTIME values. */
export function ociRuntimes(): { name: string; value: string }[] {
  return [
    { name: "runc", value: "runc" },
    { name: "crun", value: crunWrapper() },
  ];
}
