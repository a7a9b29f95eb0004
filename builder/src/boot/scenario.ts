// What the boot check does through the agent once the guest is up, in the Kata runtime's
// order: Health.Check, CreateSandbox with the shared filesystem, a container that prints
// where it runs (its output streamed to the terminal), WaitProcess, an exec into a second,
// long-running container, RemoveContainer, GetMetrics (the agent's memory after all that),
// DestroySandbox (which powers the guest off). The long-running container also sees the guest's
// mount table, so the check can say which device the guest's root really is.
import {
  AgentService,
  Health,
  type ServiceClient,
  serviceClient,
  type TtrpcClient,
} from "../../../agent/src/client/index.js";
import { bootCheckSpec } from "./spec.js";

/** Where the runtime puts the shared filesystem in the guest, and so the agent mounts it. */
export const GUEST_SHARED = "/run/kata-containers/shared/containers";

export interface ScenarioResult {
  /** What the first container printed, stdout and stderr. */
  output: string;
  exitCode: number;
  execOutput: string;
  execExitCode: number;
  /** ms from the first container's CreateContainer to its exit. */
  containerMs: number;
  /** performance.now() when WaitProcess returned the first container's exit status. */
  containerExitAt: number;
  /** The guest's root mount, from its mount table: device, filesystem type, options. */
  guestRoot?: { device: string; fstype: string; options: string[] };
  /** The agent's anonymous memory (kB) after the containers were removed, from GetMetrics. */
  agentRssAnonKb?: number;
  steps: { name: string; ms: number }[];
}

export async function runScenario(
  client: TtrpcClient,
  options: {
    sandboxId: string;
    print: (text: string) => void;
    say: (line: string) => void;
    /** Runs before DestroySandbox (e.g. an interactive shell in the long-running container). */
    beforeDestroy?: () => Promise<void>;
    /** Called right before DestroySandbox is sent. */
    onDestroy?: () => void;
  },
): Promise<ScenarioResult> {
  const agent = serviceClient(client, AgentService);
  const steps: { name: string; ms: number }[] = [];
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const value = await run();
    steps.push({ name, ms: Math.round(performance.now() - t0) });
    options.say(`  ${name} (${steps.at(-1)!.ms} ms)`);
    return value;
  };
  const timeouts = { timeoutMs: 60_000 };
  await step("Health.Check", () => serviceClient(client, Health).check({}, { timeoutMs: 30_000 }));
  await step("CreateSandbox (9p shared filesystem)", () =>
    agent.createSandbox(
      {
        sandboxId: options.sandboxId,
        hostname: "kata-boot-check",
        dns: ["nameserver 127.0.0.1"],
        storages: [
          {
            driver: "9p",
            source: "kataShared",
            fstype: "9p",
            mountPoint: GUEST_SHARED,
            options: ["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=512000"],
          },
        ],
      },
      timeouts,
    ),
  );

  // The long-running container comes first, as the pause container does in a pod: its
  // namespaces are the sandbox's, and the next container joins its PID namespace.
  const web = "long-running";
  const hello = "hello";
  const rootPath = `${GUEST_SHARED}/${hello}/rootfs`;
  await step("CreateContainer long-running", () =>
    agent.createContainer(
      {
        containerId: web,
        execId: web,
        OCI: bootCheckSpec({
          rootPath,
          args: ["sleep", "3600"],
          hostname: "kata-boot-check",
          // PID 1 of the guest (the agent, or systemd) lists the guest's own mounts.
          binds: { [GUEST_MOUNTINFO]: "/proc/1/mountinfo" },
        }),
      },
      timeouts,
    ),
  );
  await step("StartContainer long-running", () => agent.startContainer({ containerId: web }, timeouts));

  const t0 = performance.now();
  await step("CreateContainer hello", () =>
    agent.createContainer(
      {
        containerId: hello,
        execId: hello,
        sandboxPidns: true,
        OCI: bootCheckSpec({
          rootPath,
          args: ["sh", "-c", "uname -a; cat /etc/os-release; id"],
          hostname: "kata-boot-check",
        }),
      },
      timeouts,
    ),
  );
  await step("StartContainer hello", () => agent.startContainer({ containerId: hello }, timeouts));
  const [stdout, stderr] = await step("ReadStdout/ReadStderr to EOF", () =>
    Promise.all([
      drain(agent, hello, hello, "stdout", options.print),
      drain(agent, hello, hello, "stderr", options.print),
    ]),
  );
  const { status } = await step("WaitProcess hello", () =>
    agent.waitProcess({ containerId: hello, execId: hello }),
  );
  const containerExitAt = performance.now();
  const containerMs = Math.round(containerExitAt - t0);

  await step("ExecProcess into long-running", () =>
    agent.execProcess(
      {
        containerId: web,
        execId: "exec1",
        process: bootCheckSpec({
          rootPath: "",
          args: ["sh", "-c", "echo exec into $(hostname): pid $$, $(ps | wc -l) processes visible"],
          hostname: "",
        }).Process,
      },
      timeouts,
    ),
  );
  const execOutput = await drain(agent, web, "exec1", "stdout", options.print);
  const exec = await step("WaitProcess exec", () => agent.waitProcess({ containerId: web, execId: "exec1" }));
  const mounts = await step("Read the guest's root mount (exec)", async () => {
    // The root's mountinfo line, then the kernel's name for its device (the container's sysfs
    // is the guest's: no network namespace of its own).
    const script = `line=$(awk '$5 == "/"' ${GUEST_MOUNTINFO} | tail -n 1); echo "$line"; set -- $line; cat /sys/dev/block/$3/uevent 2>/dev/null; true`;
    await agent.execProcess(
      {
        containerId: web,
        execId: "mounts",
        process: bootCheckSpec({ rootPath: "", args: ["sh", "-c", script], hostname: "" }).Process,
      },
      timeouts,
    );
    const text = await drain(agent, web, "mounts", "stdout", () => {});
    await agent.waitProcess({ containerId: web, execId: "mounts" });
    return text;
  });
  const guestRoot = rootMount(mounts);
  await options.beforeDestroy?.();
  for (const id of [hello, web]) {
    await step(`SignalProcess ${id} (SIGKILL all)`, () =>
      agent.signalProcess({ containerId: id, execId: "", signal: 9 }, timeouts),
    );
    await step(`RemoveContainer ${id}`, () => agent.removeContainer({ containerId: id }, timeouts));
  }
  const { metrics } = await step("GetMetrics", () => agent.getMetrics({}, timeouts));
  const rssAnon = /^kata_agent_proc_status\{item="rssanon"\} (\d+)/im.exec(metrics)?.[1];
  options.onDestroy?.();
  await step("DestroySandbox", () => agent.destroySandbox({}, timeouts));
  return {
    output: stdout + stderr,
    exitCode: status,
    execOutput,
    execExitCode: exec.status,
    containerMs,
    containerExitAt,
    ...(guestRoot ? { guestRoot } : {}),
    ...(rssAnon ? { agentRssAnonKb: Number(rssAnon) } : {}),
    steps,
  };
}

/** Where the long-running container sees the guest's mount table. */
const GUEST_MOUNTINFO = "/run/guest-mountinfo";

/**
 * The guest's root from the probe's output: a /proc/PID/mountinfo line (mount options before
 * " - ", then type, source and superblock options), then its block device's uevent, whose
 * DEVNAME names the device better than the "/dev/root" the kernel reports as the source.
 */
export function rootMount(output: string): ScenarioResult["guestRoot"] {
  const [line = "", ...uevent] = output.trim().split("\n");
  const dash = line.indexOf(" - ");
  if (dash < 0) return undefined;
  const before = line.slice(0, dash).split(" ");
  const [fstype = "", source = "", superOptions = ""] = line.slice(dash + 3).split(" ");
  const devname = uevent.find((l) => l.startsWith("DEVNAME="))?.slice("DEVNAME=".length);
  const options = [...new Set([...(before[5] ?? "").split(","), ...superOptions.split(",")])].filter(Boolean);
  return { device: devname ? `/dev/${devname}` : source, fstype, options };
}

/** Reads a stream to EOF as the runtime does (32 KiB calls), passing it on as it comes. */
async function drain(
  agent: ServiceClient<typeof AgentService>,
  containerId: string,
  execId: string,
  which: "stdout" | "stderr",
  print: (text: string) => void,
): Promise<string> {
  let text = "";
  for (;;) {
    const req = { containerId, execId, len: 32768 };
    const { data } = which === "stdout" ? await agent.readStdout(req) : await agent.readStderr(req);
    if (data.length === 0) return text;
    const chunk = Buffer.from(data).toString("utf8");
    text += chunk;
    print(chunk);
  }
}
