// Runtime failures whose cause is the host, not the container, and what fixes each. The match
// is on the runtime's own message: it only adds advice to an error already being reported.

interface KnownProblem {
  pattern: RegExp;
  fix: string;
}

const PROBLEMS: KnownProblem[] = [
  {
    // crun on a hybrid cgroup layout (cgroup v1 plus a v2 hierarchy with controllers).
    pattern: /cgroups in hybrid mode not supported/,
    fix:
      "this host's cgroup layout is hybrid, which crun refuses: use runc (agent.oci_runtime=runc, " +
      "KATA_AGENT_OCI_RUNTIME=runc, or the default auto, which picks runc here), or run the agent " +
      "where /sys/fs/cgroup is cgroup v2 only (a Kata guest always is)",
  },
];

/** The fix for a runtime message that names a known host problem, if it does. */
export function knownFix(message: string): string | undefined {
  return PROBLEMS.find((p) => p.pattern.test(message))?.fix;
}
