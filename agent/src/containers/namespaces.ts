// How a container's namespaces and cgroup are set up in the pod. The first container of the
// sandbox (the pause container) gets new IPC, UTS and PID namespaces; later containers join its
// IPC and UTS namespaces (a pod shares them) and, with sandbox_pidns, its PID namespace.
// The network namespace is the guest's (the runtime removes that entry); mount is always new.
import type { RuntimeSpec } from "./runtime-spec.js";

export interface SandboxNamespaces {
  /** Init pid of the first container, whose namespaces the others join. */
  ownerPid?: number;
}

const SHARED = ["ipc", "uts"] as const;

export function setNamespaces(spec: RuntimeSpec, sandbox: SandboxNamespaces, sandboxPidns: boolean): void {
  spec.linux ??= {};
  const linux = spec.linux;
  const kept = (linux.namespaces ?? []).filter(
    (n) => n.type !== "pid" && n.type !== "network" && n.type !== "cgroup",
  );
  const owner = sandbox.ownerPid;
  const namespaces = kept.map((n) =>
    owner !== undefined && (SHARED as readonly string[]).includes(n.type)
      ? { type: n.type, path: `/proc/${owner}/ns/${n.type}` }
      : n,
  );
  if (!namespaces.some((n) => n.type === "mount")) namespaces.push({ type: "mount" });
  namespaces.push(
    sandboxPidns && owner !== undefined ? { type: "pid", path: `/proc/${owner}/ns/pid` } : { type: "pid" },
  );
  linux.namespaces = namespaces;
  // A joined UTS namespace already has the pod's hostname; setting it again is refused.
  if (namespaces.some((n) => n.type === "uts" && n.path)) delete spec.hostname;
}

/**
 * A cgroupfs path for the container. The runtime may send systemd's "slice:prefix:name" form,
 * but the guest has no systemd cgroup manager in agent-as-init mode, so it is mapped to a path.
 */
export function cgroupsPathFor(requested: string | undefined, containerId: string): string {
  if (!requested) return `/kata/${containerId}`;
  const systemd = /^([^:/]*):([^:]*):([^:]+)$/.exec(requested);
  if (systemd) {
    const [, slice = "", prefix = "", name = ""] = systemd;
    return `/${[slice || "kata.slice", prefix ? `${prefix}-${name}` : name].join("/")}`;
  }
  return requested.startsWith("/") ? requested : `/${requested}`;
}
