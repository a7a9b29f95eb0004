// Terminals, signals, pause/resume, update, stats, OOM and removal through the real agent,
// with real runc and real crun.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/client/index.js";
import type { RunningAgent } from "../../../helpers/agent.js";
import { startAgent } from "../../../helpers/agent.js";
import { containerSpec, ociRuntimes } from "../../../helpers/oci.js";
import { readAll, rpcError } from "./helpers.js";

/** The container's cgroup directory for a v1 controller, from its init's /proc/<pid>/cgroup. */
function cgroupDir(pid: number, controller: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .split("\n")
    .find((l) => l.split(":")[1]?.split(",").includes(controller));
  if (!line) throw new Error(`no ${controller} cgroup for ${pid}`);
  return path.join("/sys/fs/cgroup", controller, line.split(":")[2] ?? "/");
}

function initPid(a: RunningAgent, containerId: string): number {
  return Number(readFileSync(path.join(a.dir, "run", containerId, "init.pid"), "utf8"));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(ociRuntimes())("process control with $name", ({ value: runtime }) => {
  let a: RunningAgent;
  let n = 0;
  const fresh = async (
    args: string[],
    extra: Parameters<typeof containerSpec>[0] extends infer O ? Partial<O> : never = {},
  ) => {
    const id = `ctl${++n}`;
    await a.agent.createContainer({ containerId: id, OCI: containerSpec({ args, ...extra }) });
    await a.agent.startContainer({ containerId: id });
    return id;
  };
  beforeAll(async () => {
    a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: runtime } });
    await a.agent.createSandbox({ sandboxId: "pod" });
    // The sandbox (pause) container owns the pod's namespaces.
    await fresh(["sleep", "100000"]);
  });
  afterAll(async () => {
    await a.stop();
  });

  it("gives a terminal process a pty, and TtyWinResize reaches it", async () => {
    const id = await fresh(["sleep", "100000"]);
    const proc = containerSpec({
      args: ["sh", "-c", "read line; stty size; echo tty:$line"],
      terminal: true,
    }).Process;
    await a.agent.execProcess({ containerId: id, execId: "tty", process: proc });
    await a.agent.ttyWinResize({ containerId: id, execId: "tty", row: 42, column: 117 });
    await a.agent.writeStdin({ containerId: id, execId: "tty", data: Buffer.from("hello\r") });
    const out = await readAll(a, id, "tty", "stdout");
    expect(out).toContain("42 117");
    expect(out).toContain("tty:hello");
    // A terminal has one stream; ReadStderr does not steal from it.
    expect((await a.agent.waitProcess({ containerId: id, execId: "tty" })).status).toBe(0);

    await a.agent.execProcess({
      containerId: id,
      execId: "pipe",
      process: containerSpec({ args: ["sleep", "5"] }).Process,
    });
    const noTty = await rpcError(
      a.agent.ttyWinResize({ containerId: id, execId: "pipe", row: 1, column: 1 }),
    );
    expect(noTty).toEqual({ code: Code.Unavailable, message: "no tty" });
  });

  it("passes on everything a terminal process wrote just before it exited", async () => {
    // The kernel moves pty output to the master asynchronously: at exit the last of it may not
    // have arrived yet. Repeated, since the race is short.
    const id = await fresh(["sleep", "100000"]);
    for (let round = 0; round < 10; round++) {
      const execId = `last${round}`;
      const proc = containerSpec({ args: ["sh", "-c", "seq 1 3000; echo end >&2"], terminal: true }).Process;
      await a.agent.execProcess({ containerId: id, execId, process: proc });
      const out = await readAll(a, id, execId, "stdout");
      expect(out.trimEnd().split("\r\n").slice(-2), `round ${round}`).toEqual(["3000", "end"]);
      expect((await a.agent.waitProcess({ containerId: id, execId })).status).toBe(0);
    }
  });

  it("ends a terminal exec's output when its process exits, though a child that ignores SIGHUP keeps the pty", async () => {
    // Upstream users' `sh -c 'nohup tail -f /dev/null &'` hang: the pty never reports EOF.
    const id = await fresh(["sleep", "100000"]);
    const proc = containerSpec({
      args: ["sh", "-c", "(trap '' HUP; exec sleep 100) & echo bg-started; exit 4"],
      terminal: true,
    }).Process;
    const started = Date.now();
    await a.agent.execProcess({ containerId: id, execId: "bg", process: proc });
    expect(await readAll(a, id, "bg", "stdout")).toContain("bg-started");
    expect((await a.agent.waitProcess({ containerId: id, execId: "bg" })).status).toBe(4);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("maps signals to exit statuses, falls back to SIGKILL for an init that ignores SIGTERM, and kills all with an empty exec id", async () => {
    const id = await fresh(["sleep", "100000"]);
    await a.agent.execProcess({
      containerId: id,
      execId: "t",
      process: containerSpec({ args: ["sleep", "1000"] }).Process,
    });
    await a.agent.signalProcess({ containerId: id, execId: "t", signal: 15 });
    expect((await a.agent.waitProcess({ containerId: id, execId: "t" })).status).toBe(143);

    // sleep as PID 1 of its namespace has no SIGTERM handler: the kernel would drop the signal.
    await a.agent.signalProcess({ containerId: id, execId: "", signal: 15 });
    expect((await a.agent.waitProcess({ containerId: id, execId: id })).status).toBe(137);

    const all = await fresh(["sleep", "100000"]);
    await a.agent.execProcess({
      containerId: all,
      execId: "x",
      process: containerSpec({ args: ["sleep", "1000"] }).Process,
    });
    await a.agent.signalProcess({ containerId: all, execId: "", signal: 9 });
    expect((await a.agent.waitProcess({ containerId: all, execId: all })).status).toBe(137);
    expect((await a.agent.waitProcess({ containerId: all, execId: "x" })).status).toBe(137);
    await a.agent.removeContainer({ containerId: all });
    await a.agent.removeContainer({ containerId: id });
  });

  it("pauses and resumes the container's cgroup", async () => {
    const id = await fresh(["sh", "-c", "while true; do echo tick; sleep 0.05; done"]);
    const freezer = path.join(cgroupDir(initPid(a, id), "freezer"), "freezer.state");
    await a.agent.readStdout({ containerId: id, execId: id, len: 100 });
    await a.agent.pauseContainer({ containerId: id });
    expect(readFileSync(freezer, "utf8").trim()).toBe("FROZEN");
    await sleep(200);
    // Drain what was written before the freeze; then nothing more comes while frozen.
    for (;;) {
      const more = await a.agent
        .readStdout({ containerId: id, execId: id, len: 1 << 20 }, { timeoutMs: 300 })
        .catch(() => null);
      if (more === null) break;
    }
    const resumed = await rpcError(a.agent.pauseContainer({ containerId: id }));
    expect(resumed.code).toBe(Code.FailedPrecondition);
    await a.agent.resumeContainer({ containerId: id });
    expect(readFileSync(freezer, "utf8").trim()).toBe("THAWED");
    const after = await a.agent.readStdout({ containerId: id, execId: id, len: 100 }, { timeoutMs: 5000 });
    expect(Buffer.from(after.data).toString()).toContain("tick");
    await a.agent.removeContainer({ containerId: id });
  });

  it("reports cgroup statistics and applies updated resources", async () => {
    const id = await fresh(
      ["sh", "-c", "x=$(head -c 3000000 /dev/zero | tr '\\0' a); echo ready; sleep 1000"],
      {
        memoryLimit: 256 << 20,
      },
    );
    expect(
      await a.agent
        .readStdout({ containerId: id, execId: id, len: 100 })
        .then((r) => Buffer.from(r.data).toString()),
    ).toBe("ready\n");
    const stats = (await a.agent.statsContainer({ containerId: id })).cgroupStats!;
    const memoryDir = cgroupDir(initPid(a, id), "memory");
    const usageNow = BigInt(readFileSync(path.join(memoryDir, "memory.usage_in_bytes"), "utf8").trim());
    const reported = stats.memoryStats!.usage!.usage;
    expect(reported).toBeGreaterThan(100_000n);
    // The same cgroup's figure, read a moment apart: a container this small uses well under
    // 1 MiB, where the kernel's per-CPU charge batches move usage by hundreds of KiB, so the
    // two are compared within 4 MiB (the root or a parent cgroup would be far off).
    expect(Math.abs(Number(reported) - Number(usageNow))).toBeLessThan(4 << 20);
    expect(stats.memoryStats!.usage!.limit).toBe(BigInt(256 << 20));
    expect(stats.cpuStats!.cpuUsage!.totalUsage).toBeGreaterThan(0n);
    expect(stats.pidsStats!.current).toBeGreaterThanOrEqual(1n);
    expect(Object.keys(stats.memoryStats!.stats).length).toBeGreaterThan(5);

    await a.agent.updateContainer({
      containerId: id,
      resources: { Memory: { Limit: BigInt(128 << 20), Swap: BigInt(128 << 20) }, Pids: { Limit: 50n } },
    });
    const pid = initPid(a, id);
    expect(readFileSync(path.join(cgroupDir(pid, "memory"), "memory.limit_in_bytes"), "utf8").trim()).toBe(
      String(128 << 20),
    );
    expect(readFileSync(path.join(cgroupDir(pid, "pids"), "pids.max"), "utf8").trim()).toBe("50");
    await a.agent.removeContainer({ containerId: id });
  });

  it("reports an OOM kill through GetOOMEvent", async () => {
    const event = a.agent.getOOMEvent({});
    const id = await fresh(["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"], {
      memoryLimit: 16 << 20,
    });
    expect((await event).containerId).toBe(id);
    expect((await a.agent.waitProcess({ containerId: id, execId: id })).status).toBe(137);
    await a.agent.removeContainer({ containerId: id });
  });

  it("answers bad requests with clear errors and leaves other containers running", async () => {
    const other = await fresh(["sleep", "100000"]);
    const spec = containerSpec({ args: ["true"] });
    expect(await rpcError(a.agent.createContainer({ containerId: "../etc", OCI: spec }))).toMatchObject({
      code: Code.Internal,
      message: expect.stringMatching(/^invalid container ID "\.\.\/etc"/),
    });
    expect(await rpcError(a.agent.createContainer({ containerId: other, OCI: spec }))).toMatchObject({
      code: Code.AlreadyExists,
    });
    expect(await rpcError(a.agent.createContainer({ containerId: "nospec" }))).toMatchObject({
      code: Code.Internal,
    });
    expect(await rpcError(a.agent.startContainer({ containerId: "ghost" }))).toMatchObject({
      code: Code.Internal,
      message: expect.stringMatching(/^Invalid container id "ghost"/),
    });
    expect(await rpcError(a.agent.waitProcess({ containerId: "ghost" }))).toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(await rpcError(a.agent.waitProcess({ containerId: other, execId: "nope" }))).toMatchObject({
      code: Code.NotFound,
      message: expect.stringMatching(/^Process not found: invalid exec id/),
    });
    expect(await rpcError(a.agent.pauseContainer({ containerId: "ghost" }))).toMatchObject({
      code: Code.InvalidArgument,
    });
    // A spec the runtime rejects: the runtime's own message comes back.
    const bad = containerSpec({
      args: ["true"],
      mounts: [{ destination: "/x", source: "/nonexistent-src", type: "bind", options: ["bind"] }],
    });
    const rejected = await rpcError(a.agent.createContainer({ containerId: "badmount", OCI: bad }));
    expect(rejected.code).toBe(Code.Internal);
    expect(rejected.message).toMatch(/nonexistent-src/);
    // A process that cannot start.
    const missing = await rpcError(
      (async () => {
        await a.agent.createContainer({
          containerId: "nobin",
          OCI: containerSpec({ args: ["/no/such/binary"] }),
        });
        await a.agent.startContainer({ containerId: "nobin" });
      })(),
    );
    expect(missing.message).toMatch(/no\/such\/binary|no such file/i);
    await a.agent.removeContainer({ containerId: "nobin" }).catch(() => {});
    // The other container is untouched.
    await a.agent.execProcess({
      containerId: other,
      execId: "alive",
      process: containerSpec({ args: ["echo", "ok"] }).Process,
    });
    expect(await readAll(a, other, "alive", "stdout")).toBe("ok\n");
    await a.agent.removeContainer({ containerId: other });
  });

  it("leaves no zombie and no open fd behind", async () => {
    const fds = () => readdirSync(`/proc/${a.pid}/fd`).length;
    const before = fds();
    for (let i = 0; i < 5; i++) {
      const id = await fresh(["sh", "-c", "sleep 1000 & sleep 1000 & echo hi"]);
      expect(await readAll(a, id, id, "stdout")).toBe("hi\n");
      await a.agent.removeContainer({ containerId: id });
    }
    await sleep(300);
    expect(zombiesOf(a.pid)).toEqual([]);
    expect(fds()).toBeLessThanOrEqual(before);
  });
});

function zombiesOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" && Number(fields[1]) === parent) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}
