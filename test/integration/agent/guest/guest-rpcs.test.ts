// The guest RPCs over ttrpc against the bundled agent on this machine. Where a call would change
// the machine (clock, swap, CPU and memory hotplug), the test drives its real error paths here;
// its logic runs against fake sysfs trees in test/unit/agent/guest.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentError, Code } from "../../../../agent/src/client/index.js";
import pkg from "../../../../package.json" with { type: "json" };
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { parsePrometheus, sampleValue } from "./prometheus.js";

let agent: RunningAgent;
const scratch = mkdtempSync(join(tmpdir(), "kata-guest-rpcs-"));

beforeAll(async () => {
  // A short hotplug wait so the AddSwap timeout path takes one second.
  agent = await startAgent({ cmdline: "agent.hotplug_timeout=1" });
});

afterAll(async () => {
  await agent?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function rpcError(call: Promise<unknown>): Promise<AgentError> {
  try {
    await call;
  } catch (err) {
    return err as AgentError;
  }
  throw new Error("the call succeeded but should have failed");
}

const swaps = () => readFileSync("/proc/swaps", "utf8");

/** CPUs the kernel has online (not the ones this process may run on, which a cpuset can narrow). */
function onlineCpus(): number {
  return readFileSync("/sys/devices/system/cpu/online", "utf8")
    .trim()
    .split(",")
    .map((range) => range.split("-").map(Number))
    .reduce((n, [from = 0, to = from]) => n + to - from + 1, 0);
}

describe("GetGuestDetails", () => {
  it("reports this machine's memory block size, probe support and the agent", async () => {
    const reply = await agent.agent.getGuestDetails({ memBlockSize: true, memHotplugProbe: true });
    const hex = readFileSync("/sys/devices/system/memory/block_size_bytes", "utf8").trim();
    expect(reply.memBlockSizeBytes).toBe(BigInt(`0x${hex}`));
    expect(reply.supportMemHotplugProbe).toBe(existsSync("/sys/devices/system/memory/probe"));
    expect(reply.agentDetails).toMatchObject({
      version: pkg.version,
      initDaemon: false,
      deviceHandlers: [],
      supportsSeccomp: true,
      extraFeatures: ["agent-policy", "seccomp"],
    });
  });

  it("leaves out what was not asked for", async () => {
    const reply = await agent.agent.getGuestDetails({});
    expect(reply.memBlockSizeBytes).toBe(0n);
    expect(reply.agentDetails?.version).toBe(pkg.version);
  });
});

describe("GetMetrics", () => {
  it("is valid Prometheus text with the agent's and the guest's families", async () => {
    const families = parsePrometheus((await agent.agent.getMetrics({})).metrics);
    for (const name of [
      "kata_agent_scrape_count",
      "kata_agent_threads",
      "kata_agent_total_time",
      "kata_agent_total_vm",
      "kata_agent_total_rss",
      "kata_agent_proc_status",
      "kata_agent_io_stat",
      "kata_agent_proc_stat",
      "kata_agent_open_fds",
      "kata_agent_nodejs_info",
      "kata_agent_nodejs_memory_bytes",
      "kata_agent_nodejs_active_resources",
      "kata_agent_uptime_seconds",
      "kata_guest_load",
      "kata_guest_tasks",
      "kata_guest_cpu_time",
      "kata_guest_vm_stat",
      "kata_guest_netdev_stat",
      "kata_guest_diskstat",
      "kata_guest_meminfo",
      "kata_guest_filesystem_bytes",
      "kata_guest_filesystem_inodes",
    ]) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(family?.help, `${name} HELP`).not.toBe("");
      expect(family?.samples.length, `${name} samples`).toBeGreaterThan(0);
    }
    expect(families.get("kata_agent_scrape_count")?.type).toBe("counter");
    expect(families.get("kata_guest_meminfo")?.type).toBe("gauge");
  });

  it("measures the agent process itself, as /proc/<agent pid> shows it", async () => {
    const families = parsePrometheus((await agent.agent.getMetrics({})).metrics);
    const status = readFileSync(`/proc/${agent.pid}/status`, "utf8");
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
    const rss = sampleValue(families, "kata_agent_total_rss");
    // RSS moves a little between the scrape and this read; 10% or 8 MiB is plenty.
    expect(Math.abs(rss - rssKb * 1024)).toBeLessThan(Math.max(rssKb * 1024 * 0.1, 8 << 20));
    expect(Math.abs(sampleValue(families, "kata_agent_proc_status", { item: "vmrss" }) - rssKb)).toBeLessThan(
      Math.max(rssKb * 0.1, 8192),
    );
    expect(sampleValue(families, "kata_agent_threads")).toBeGreaterThanOrEqual(Math.min(threads, 7));
    expect(sampleValue(families, "kata_agent_total_vm")).toBeGreaterThan(rss);
    const heapUsed = sampleValue(families, "kata_agent_nodejs_memory_bytes", { item: "heap_used" });
    expect(heapUsed).toBeGreaterThan(1 << 20);
    expect(heapUsed).toBeLessThan(rss);
    expect(sampleValue(families, "kata_agent_nodejs_info", { version: process.version })).toBe(1);
  });

  it("measures the guest: memory, CPUs and filesystems match what the kernel says", async () => {
    const families = parsePrometheus((await agent.agent.getMetrics({})).metrics);
    const memTotalKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
    expect(sampleValue(families, "kata_guest_meminfo", { item: "mem_total" })).toBe(memTotalKb * 1024);
    const cpus = new Set(families.get("kata_guest_cpu_time")?.samples.map((s) => s.labels.cpu));
    expect(cpus.size).toBe(onlineCpus() + 1); // each CPU and "total"
    expect(sampleValue(families, "kata_guest_cpu_time", { cpu: "total", item: "user" })).toBeGreaterThan(0);
    const df = execFileSync("df", ["-B1", "--output=size", "/"], { encoding: "utf8" }).trim().split("\n")[1];
    expect(sampleValue(families, "kata_guest_filesystem_bytes", { mount: "/", item: "total" })).toBe(
      Number(df),
    );
    expect(
      sampleValue(families, "kata_guest_netdev_stat", { interface: "lo", item: "recv_bytes" }),
    ).toBeGreaterThanOrEqual(0);
  });

  it("counts scrapes", async () => {
    const first = sampleValue(
      parsePrometheus((await agent.agent.getMetrics({})).metrics),
      "kata_agent_scrape_count",
    );
    const second = sampleValue(
      parsePrometheus((await agent.agent.getMetrics({})).metrics),
      "kata_agent_scrape_count",
    );
    expect(second).toBe(first + 1);
  });
});

describe("SetGuestDateTime", () => {
  it("refuses times the kernel rejects, with INVALID_ARGUMENT, and leaves the clock alone", async () => {
    const before = Date.now();
    const usec = await rpcError(
      agent.agent.setGuestDateTime({ Sec: BigInt(Math.floor(before / 1000)), Usec: 1_000_000n }),
    );
    expect(usec.code).toBe(Code.InvalidArgument);
    expect(usec.message).toMatch(/Usec=1000000 \(EINVAL\): Usec must be 0-999999/);
    const negative = await rpcError(agent.agent.setGuestDateTime({ Sec: -5n, Usec: 0n }));
    expect(negative.code).toBe(Code.InvalidArgument);
    const huge = await rpcError(agent.agent.setGuestDateTime({ Sec: 1n << 62n, Usec: 0n }));
    expect(huge).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("out of range"),
    });
    expect(Math.abs(Date.now() - before)).toBeLessThan(5000);
  });
});

describe("ReseedRandomDev", () => {
  it("feeds real bytes to the kernel's pool", async () => {
    const seed = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
    await expect(agent.agent.reseedRandomDev({ data: seed })).resolves.toBeDefined();
  });

  it("refuses an empty seed", async () => {
    const err = await rpcError(agent.agent.reseedRandomDev({ data: new Uint8Array() }));
    expect(err).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("data is empty"),
    });
  });
});

describe("AddSwapPath / AddSwap", () => {
  it("refuses what is not a swap area, saying what to do, and swap stays as it was", async () => {
    const before = swaps();
    const file = join(scratch, "not-swap");
    writeFileSync(file, Buffer.alloc(1 << 20));
    const notSwap = await rpcError(agent.agent.addSwapPath({ path: file }));
    expect(notSwap.code).toBe(Code.Internal);
    expect(notSwap.message).toBe(
      `swapon ${file}: EINVAL (Invalid argument); it is not a swap area: run mkswap on it first (swap files must have no holes)`,
    );
    const missing = await rpcError(agent.agent.addSwapPath({ path: join(scratch, "missing") }));
    expect(missing.code).toBe(Code.NotFound);
    expect((await rpcError(agent.agent.addSwapPath({ path: "" }))).code).toBe(Code.InvalidArgument);
    expect(swaps()).toBe(before);
  });

  it("finds the disk at a PCI path and lets the kernel refuse one that is in use", async () => {
    // The root disk: the kernel refuses it before touching it: it is mounted (EBUSY), or, in a
    // container like CI's, the device cgroup denies writing to it (EPERM).
    const link = execFileSync("readlink", ["-f", "/sys/block/vda/device"], { encoding: "utf8" }).trim();
    const slot = /\/0000:00:([0-9a-f]{2})\.0\/virtio\d+$/.exec(link)?.[1];
    expect(slot, `vda's sysfs device ${link} sits on the root PCI bus`).toBeDefined();
    const before = swaps();
    const err = await rpcError(agent.agent.addSwap({ PCIPath: [parseInt(slot as string, 16)] }));
    expect(err.message).toMatch(
      /^swapon \/dev\/vda \(PCI path [0-9a-f]{2}\): (EBUSY .*already in use|EPERM .*not permitted)/,
    );
    expect(swaps()).toBe(before);
  });

  it("gives up on a PCI slot with no disk after agent.hotplug_timeout, naming the path", async () => {
    const started = Date.now();
    const err = await rpcError(agent.agent.addSwap({ PCIPath: [31] }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.message).toMatch(
      /^timed out after 1s waiting for the virtio-blk disk at PCI path 1f .*\/sys\/devices\/pci0000:00\/0000:00:1f\.0.*agent\.hotplug_timeout/,
    );
    expect((await rpcError(agent.agent.addSwap({ PCIPath: [] }))).code).toBe(Code.InvalidArgument);
  });
});

describe("OnlineCPUMem and MemHotplugByProbe", () => {
  it("is done at once when the CPUs asked for are online", async () => {
    await expect(agent.agent.onlineCPUMem({ nbCpus: onlineCpus(), cpuOnly: true })).resolves.toBeDefined();
  });

  it("retries for upstream's 100 rounds of 50 ms, then says how many CPUs are online", async () => {
    const started = Date.now();
    const n = onlineCpus();
    const err = await rpcError(agent.agent.onlineCPUMem({ nbCpus: n + 1, cpuOnly: true }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toContain(
      `only ${n} of the ${n + 1} CPUs asked for are online after 100 rounds 50 ms apart`,
    );
  });

  it("refuses to probe memory on a kernel without the probe interface", async () => {
    expect(existsSync("/sys/devices/system/memory/probe"), "this machine type has no memory/probe").toBe(
      false,
    );
    const err = await rpcError(agent.agent.memHotplugByProbe({ memHotplugProbeAddr: [0x100000000n] }));
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toContain("CONFIG_ARCH_MEMORY_PROBE");
  });
});

describe("mem-agent", () => {
  it('answers upstream\'s INTERNAL "mem-agent is disabled" unless agent.mem_agent_enable', async () => {
    const err = await rpcError(agent.agent.memAgentMemcgSet({ swap: true }));
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toMatch(/^mem-agent is disabled/);
    expect((await rpcError(agent.agent.memAgentCompactSet({}))).message).toMatch(/^mem-agent is disabled/);
  });

  it("takes new settings when enabled, and refuses impossible ones naming the field", async () => {
    const enabled = await startAgent({
      cmdline: "agent.mem_agent_enable=1 agent.mem_agent_memcg_period_secs=3600",
    });
    try {
      await enabled.agent.memAgentMemcgSet({ swap: true, swappinessMax: 40 });
      await enabled.agent.memAgentCompactSet({ disabled: true, periodSecs: 7200n });
      const err = await rpcError(enabled.agent.memAgentMemcgSet({ periodPsiPercentLimit: 150 }));
      expect(err).toMatchObject({
        code: Code.InvalidArgument,
        message: "period_psi_percent_limit is a percentage (0-100), not 150",
      });
      expect(enabled.logs()).toContainEqual(
        expect.objectContaining({
          msg: "memcg configuration changed",
          memcg: expect.objectContaining({ swap: true, swappinessMax: 40, periodSecs: 3600 }),
        }),
      );
    } finally {
      await enabled.stop();
    }
  });
});
