// vm() from the library (kata-guest-toolkit/builder) as a program uses it: our guest booted,
// the running machine handed back, the agent reached with the library's client at the address
// it gives, a container run through it, and the machine stopped with its directory removed.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, runContainer } from "../../agent/src/client/index.js";
import { type ProgressEvent, vm } from "../../builder/src/api/index.js";
import { makeBusyboxRootfs } from "../../builder/src/boot/busybox.js";

const scratch = mkdtempSync(path.join(tmpdir(), "e2e-vm-library-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("vm() from the library", () => {
  it(
    "hands back a running machine whose agent runs a container, and stops it",
    async () => {
      const share = path.join(scratch, "share");
      makeBusyboxRootfs(path.join(share, "c1", "rootfs"));
      const steps: string[] = [];
      const onProgress = (e: ProgressEvent) => {
        if (e.type === "step") steps.push(e.name);
        if (e.type === "step" || e.type === "info")
          process.stderr.write(`[vm] ${"name" in e ? e.name : e.message}\n`);
      };
      const machine = await vm({ share }, { onProgress });
      try {
        expect(machine.addresses.agent).toBe(`unix://${machine.addresses.dir}/agent.sock`);
        expect(machine.addresses.shared).toBe(share);
        const ready = await machine.agentReady;
        expect(ready.seconds).toBeGreaterThan(0);
        const client = await connect(machine.addresses.agent, { timeoutMs: 60_000 });
        try {
          expect((await client.health.check({})).status).toBe(1);
          await client.agent.createSandbox(
            {
              sandboxId: "lib",
              storages: [
                {
                  driver: "9p",
                  source: machine.addresses.shareTag,
                  fstype: "9p",
                  options: ["trans=virtio", "version=9p2000.L"],
                  mountPoint: "/run/kata-containers/shared/containers",
                },
              ],
            },
            { timeoutMs: 120_000 },
          );
          let output = "";
          const { status } = await runContainer(client.agent, {
            containerId: "c1",
            rootfs: "/run/kata-containers/shared/containers/c1/rootfs",
            args: ["/bin/sh", "-c", "echo hello from $(uname -r)"],
            onStdout: (data) => {
              output += Buffer.from(data).toString();
            },
            timeoutMs: 120_000,
          });
          expect(status).toBe(0);
          expect(output).toMatch(/^hello from \d+\.\d+\.\d+-kata\n$/);
        } finally {
          client.close();
        }
      } finally {
        await machine.stop();
      }
      expect(existsSync(machine.addresses.dir)).toBe(false);
    },
    40 * 60_000,
  );
});
