// Stopping our children synchronously, as the interrupt handler does before it deletes what they
// write into: a child that exits on SIGTERM and one that ignores it both end, within the grace.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { childPids, stopChildrenSync } from "../../../../builder/src/util/children.js";

const started = (child: ReturnType<typeof spawn>) =>
  new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));

describe("stopChildrenSync", () => {
  it("ends a polite child with SIGTERM and a stubborn one with SIGKILL", async () => {
    const polite = spawn("sh", ["-c", "echo up; exec sleep 100"], { stdio: ["ignore", "pipe", "ignore"] });
    const stubborn = spawn("sh", ["-c", "trap '' TERM; echo up; while :; do sleep 1; done"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    await Promise.all([started(polite), started(stubborn)]);
    expect(childPids()).toEqual(expect.arrayContaining([polite.pid, stubborn.pid]));
    const t0 = Date.now();
    stopChildrenSync(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290); // the stubborn one needed the SIGKILL
    const [p, s] = await Promise.all(
      [polite, stubborn].map(
        (c) => new Promise<NodeJS.Signals | null>((r) => c.on("exit", (_, sig) => r(sig))),
      ),
    );
    expect(p).toBe("SIGTERM");
    expect(s).toBe("SIGKILL");
  });
});
