// The container lifecycle through the real agent, with real runc and real crun.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HooksSchema } from "../../../../agent/gen/oci_pb.js";
import { Code } from "../../../../agent/src/client/index.js";
import type { RunningAgent } from "../../../helpers/agent.js";
import { startAgent } from "../../../helpers/agent.js";
import { containerSpec, ociRuntimes } from "../../../helpers/oci.js";
import { readAll, rpcError } from "./helpers.js";

describe.each(ociRuntimes())("container lifecycle with $name", ({ value: runtime }) => {
  let a: RunningAgent;
  beforeAll(async () => {
    a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: runtime } });
    await a.agent.createSandbox({ sandboxId: "pod", hostname: "pod" });
  });
  afterAll(async () => {
    await a.stop();
  });

  it("runs a container: stdout and stderr apart, in order, and its exit code", async () => {
    const script = "for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 3";
    await a.agent.createContainer({
      containerId: "c1",
      execId: "c1",
      OCI: containerSpec({ args: ["sh", "-c", script] }),
    });
    await a.agent.startContainer({ containerId: "c1" });
    const [out, err] = await Promise.all([
      readAll(a, "c1", "c1", "stdout"),
      readAll(a, "c1", "c1", "stderr"),
    ]);
    expect(out).toBe("out1\nout2\nout3\n");
    expect(err).toBe("err1\nerr2\nerr3\n");
    expect((await a.agent.waitProcess({ containerId: "c1", execId: "c1" })).status).toBe(3);
    await a.agent.removeContainer({ containerId: "c1" });
    // The container's process id is a field of its own; every line's pid stays the agent's.
    const created = a.logs().find((r) => r.msg === "container created" && r.container === "c1");
    expect(created).toMatchObject({ pid: a.pid, processPid: expect.any(Number) });
    expect(created?.processPid).not.toBe(a.pid);
    expect(a.logs().every((r) => r.pid === a.pid)).toBe(true);
  });

  it("writes annotations into config.json exactly, whatever they spell", async () => {
    const annotations = { "example.com/odd": "\u0000bigint:5", "example.com/plain": "7" };
    await a.agent.createContainer({
      containerId: "notes",
      OCI: containerSpec({ args: ["true"], annotations }),
    });
    const written = JSON.parse(readFileSync(path.join(a.dir, "run", "notes", "config.json"), "utf8")) as {
      annotations: Record<string, unknown>;
    };
    expect(written.annotations).toMatchObject(annotations);
    await a.agent.startContainer({ containerId: "notes" });
    expect((await a.agent.waitProcess({ containerId: "notes", execId: "notes" })).status).toBe(0);
    await a.agent.removeContainer({ containerId: "notes" });
  });

  it("round-trips stdin and delivers EOF when stdin is closed", async () => {
    await a.agent.createContainer({ containerId: "cat", OCI: containerSpec({ args: ["cat"] }) });
    await a.agent.startContainer({ containerId: "cat" });
    const reply = await a.agent.writeStdin({
      containerId: "cat",
      execId: "cat",
      data: Buffer.from("ping\n"),
    });
    expect(reply.len).toBe(5);
    const echoed = await a.agent.readStdout({ containerId: "cat", execId: "cat", len: 32768 });
    expect(Buffer.from(echoed.data).toString()).toBe("ping\n");
    await a.agent.closeStdin({ containerId: "cat", execId: "cat" });
    expect(await readAll(a, "cat", "cat", "stdout")).toBe("");
    expect((await a.agent.waitProcess({ containerId: "cat", execId: "cat" })).status).toBe(0);
    await a.agent.removeContainer({ containerId: "cat" });
  });

  it("execs into a running container and returns when the exec exits, even if a child keeps the pipes", async () => {
    await a.agent.createContainer({ containerId: "long", OCI: containerSpec({ args: ["sleep", "1000"] }) });
    await a.agent.startContainer({ containerId: "long" });
    const exec = (execId: string, args: string[]) =>
      a.agent.execProcess({ containerId: "long", execId, process: containerSpec({ args }).Process });
    await exec("e1", ["sh", "-c", "echo from-exec; echo oops >&2; exit 5"]);
    expect(await readAll(a, "long", "e1", "stdout")).toBe("from-exec\n");
    expect(await readAll(a, "long", "e1", "stderr")).toBe("oops\n");
    expect((await a.agent.waitProcess({ containerId: "long", execId: "e1" })).status).toBe(5);

    // The background sleep holds stdout open for 100 s; the exec itself is done at once.
    const started = Date.now();
    await exec("e2", ["sh", "-c", "sleep 100 & echo done"]);
    expect(await readAll(a, "long", "e2", "stdout")).toBe("done\n");
    expect((await a.agent.waitProcess({ containerId: "long", execId: "e2" })).status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);

    // Reusing an exec id that is still known is refused.
    await exec("e3", ["sleep", "100"]);
    const dup = await rpcError(exec("e3", ["true"]));
    expect(dup).toMatchObject({ code: Code.Internal, message: "exec_id 'e3' already exists" });
    await a.agent.signalProcess({ containerId: "long", execId: "e3", signal: 15 });
    expect((await a.agent.waitProcess({ containerId: "long", execId: "e3" })).status).toBe(128 + 15);
    await a.agent.removeContainer({ containerId: "long" });
  });

  it("keeps the last lines of output written just before exit", async () => {
    const lines = 2000;
    const script = `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i+1)); done`;
    await a.agent.createContainer({
      containerId: "burst",
      OCI: containerSpec({ args: ["sh", "-c", script] }),
    });
    await a.agent.startContainer({ containerId: "burst" });
    // Wait first, read later: all of the output must still be there.
    expect((await a.agent.waitProcess({ containerId: "burst", execId: "burst" })).status).toBe(0);
    const out = await readAll(a, "burst", "burst", "stdout");
    expect(out.split("\n").slice(-3)).toEqual([`line ${lines - 2}`, `line ${lines - 1}`, ""]);
    expect(out.length).toBe(Array.from({ length: lines }, (_, i) => `line ${i}\n`).join("").length);
    // Now it has been waited for and read: it is gone.
    const gone = await rpcError(a.agent.waitProcess({ containerId: "burst", execId: "burst" }));
    expect(gone.code).toBe(Code.NotFound);
    await a.agent.removeContainer({ containerId: "burst" });
  });

  it("streams 12 MiB through cat, stdin to stdout, with a reader that falls behind, unchanged", async () => {
    // The reader waits first, so the agent's output buffer fills to its high-water mark, stops
    // reading the pipe, and cat and then WriteStdin block; reading on must resume it all.
    const id = "cat";
    await a.agent.createContainer({ containerId: id, OCI: containerSpec({ args: ["cat"] }) });
    await a.agent.startContainer({ containerId: id });
    const input = randomBytes(12 << 20);
    const writer = (async () => {
      for (let off = 0; off < input.length; off += 32768) {
        const data = input.subarray(off, off + 32768);
        const { len } = await a.agent.writeStdin({ containerId: id, execId: id, data });
        expect(len).toBe(data.length);
      }
      await a.agent.closeStdin({ containerId: id, execId: id });
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const out: Buffer[] = [];
    for (;;) {
      const { data } = await a.agent.readStdout({ containerId: id, execId: id, len: 32768 });
      if (data.length === 0) break;
      out.push(Buffer.from(data));
    }
    await writer;
    const output = Buffer.concat(out);
    expect(output.length).toBe(input.length);
    expect(createHash("sha256").update(output).digest("hex")).toBe(
      createHash("sha256").update(input).digest("hex"),
    );
    expect((await a.agent.waitProcess({ containerId: id, execId: id })).status).toBe(0);
    await a.agent.removeContainer({ containerId: id });
  });

  /** `seq 1 n`, as the container prints it. */
  const seq = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

  it("keeps what a process wrote into its pipe while nobody read, in order, once, after it exits", async () => {
    // 0.94 MB: within the container's 1 MiB pipe (agent.container_pipe_size), so the process
    // finishes before anyone reads; the agent reads the pipe itself when asked, and may also
    // hold one chunk libuv read ahead: every byte must come out once, in order.
    await a.agent.createContainer({
      containerId: "held",
      OCI: containerSpec({ args: ["seq", "1", "150000"] }),
    });
    await a.agent.startContainer({ containerId: "held" });
    expect((await a.agent.waitProcess({ containerId: "held", execId: "held" })).status).toBe(0);
    const out = await readAll(a, "held", "held", "stdout");
    expect(out.length).toBe(seq(150000).length);
    expect(out === seq(150000)).toBe(true);
    await a.agent.removeContainer({ containerId: "held" });
  });

  it("still gives a reader that took every byte before WaitProcess its end of file", async () => {
    await a.agent.createContainer({ containerId: "eof", OCI: containerSpec({ args: ["printf", "hello"] }) });
    await a.agent.startContainer({ containerId: "eof" });
    const { data } = await a.agent.readStdout({ containerId: "eof", execId: "eof", len: 5 });
    expect(Buffer.from(data).toString()).toBe("hello");
    expect((await a.agent.waitProcess({ containerId: "eof", execId: "eof" })).status).toBe(0);
    // Waited for, and all of its output taken, but its reader has not seen the end yet.
    expect((await a.agent.readStdout({ containerId: "eof", execId: "eof", len: 5 })).data.length).toBe(0);
    const gone = await rpcError(a.agent.waitProcess({ containerId: "eof", execId: "eof" }));
    expect(gone.code).toBe(Code.NotFound);
    await a.agent.removeContainer({ containerId: "eof" });
  });

  it("lets a writer that fills its pipe wait for the reader, then delivers everything in order", async () => {
    await a.agent.createContainer({
      containerId: "full",
      OCI: containerSpec({ args: ["seq", "1", "400000"] }),
    });
    await a.agent.startContainer({ containerId: "full" });
    // 2.7 MB does not fit the pipe: the writer blocks, as with any pipe, until it is read.
    const waited = a.agent.waitProcess({ containerId: "full", execId: "full" });
    const first = await Promise.race([waited.then(() => "exited"), sleep(1500).then(() => "still writing")]);
    expect(first).toBe("still writing");
    const out = await readAll(a, "full", "full", "stdout");
    expect((await waited).status).toBe(0);
    expect(out.length).toBe(seq(400000).length);
    expect(out === seq(400000)).toBe(true);
    await a.agent.removeContainer({ containerId: "full" });
  });

  /** What the runtime itself says of a container (`<runtime> state`). */
  function runtimeState(id: string): string {
    const out = execFileSync(runtime, ["--root", path.join(a.dir, "run", ".oci-state"), "state", id], {
      encoding: "utf8",
    });
    return (JSON.parse(out) as { status: string }).status;
  }

  it("starts a container so that the runtime itself sees it running (runc: through its exec FIFO)", async () => {
    await a.agent.createContainer({ containerId: "st", OCI: containerSpec({ args: ["sleep", "1000"] }) });
    expect(runtimeState("st")).toBe("created");
    await a.agent.startContainer({ containerId: "st" });
    expect(runtimeState("st")).toBe("running");
    const started = a.logs().find((r) => r.msg === "container started" && r.container === "st");
    // runc's own `start` only reads the FIFO and removes it; the agent does that and nothing else.
    expect(started?.via).toBe(runtime === "runc" ? "exec fifo" : "crun start");
    if (runtime === "runc")
      expect(existsSync(path.join(a.dir, "run", ".oci-state", "st", "exec.fifo"))).toBe(false);
    await a.agent.signalProcess({ containerId: "st", execId: "st", signal: 9 });
    expect((await a.agent.waitProcess({ containerId: "st", execId: "st" })).status).toBe(137);
    await a.agent.removeContainer({ containerId: "st" });
  });

  it("runs poststart hooks (the runtime's own start, which newer runc runs them in)", async () => {
    const marker = path.join(a.dir, "poststart-ran");
    await a.agent.createContainer({
      containerId: "hooked",
      OCI: {
        ...containerSpec({ args: ["sleep", "1000"] }),
        Hooks: create(HooksSchema, {
          Poststart: [{ Path: "/bin/sh", Args: ["sh", "-c", `cat > ${marker}`] }],
        }),
      },
    });
    await a.agent.startContainer({ containerId: "hooked" });
    // The hook reads the container's state from its stdin.
    expect(JSON.parse(readFileSync(marker, "utf8"))).toMatchObject({ id: "hooked" });
    expect(runtimeState("hooked")).toBe("running");
    const started = a.logs().find((r) => r.msg === "container started" && r.container === "hooked");
    expect(started?.via).toBe(`${runtime === "runc" ? "runc" : "crun"} start`);
    await a.agent.removeContainer({ containerId: "hooked" });
  });

  it("refuses to start a container whose init is already gone, promptly and saying so", async () => {
    await a.agent.createContainer({ containerId: "gone", OCI: containerSpec({ args: ["true"] }) });
    const created = a.logs().find((r) => r.msg === "container created" && r.container === "gone");
    process.kill(created?.processPid as number, "SIGKILL");
    await a.agent.waitProcess({ containerId: "gone", execId: "gone" });
    const err = await rpcError(a.agent.startContainer({ containerId: "gone" }));
    expect(err.message).toMatch(/container gone is stopped, not created/);
    await a.agent.removeContainer({ containerId: "gone" });
  });
});
