// agent.log_vport: log lines go to the port's client; before one connects (and after it goes)
// they go to the fallback and are kept for the next client, which reads them first. Real
// sockets (a Unix socket stands in for the vsock port, through the same listener code).
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Logger } from "../../../../agent/src/log.js";
import { MAX_KEPT, startLogPort } from "../../../../agent/src/log-port.js";

const dir = mkdtempSync(join(tmpdir(), "log-port-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Connects and collects what the port sends until `until` matches. */
function reader(path: string) {
  const socket = net.connect(path);
  let text = "";
  socket.on("data", (d) => {
    text += d.toString();
  });
  return {
    socket,
    text: () => text,
    waitFor: async (pattern: RegExp) => {
      for (let i = 0; i < 200 && !pattern.test(text); i++) await new Promise((r) => setTimeout(r, 10));
      return text;
    },
  };
}

const messages = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { msg: string }).msg);

describe("log port", () => {
  it("sends what was logged before the client came, then everything live; falls back when it goes", async () => {
    const path = join(dir, "a.sock");
    const fallback: string[] = [];
    const log = Logger.create("info", (l) => fallback.push(l));
    const port = await startLogPort(log, { scheme: "unix", path, abstract: false }, (l) => fallback.push(l));
    try {
      log.info("before");
      expect(messages(fallback.join(""))).toEqual(["before"]);

      const first = reader(path);
      await first.waitFor(/logging to a client/);
      log.info("live", { container: "c1" });
      const seen = messages(await first.waitFor(/"live"/));
      expect(seen).toEqual(["before", "logging to a client of the log port", "live"]);
      expect(fallback).toHaveLength(1); // nothing live went to the fallback

      // A second client is turned away while the first reads.
      const second = reader(path);
      await new Promise((resolve) => second.socket.on("close", resolve));
      expect(second.text()).toBe("");

      first.socket.destroy();
      for (let i = 0; i < 200 && !fallback.join("").includes("went away"); i++)
        await new Promise((r) => setTimeout(r, 10));
      log.info("after");
      const third = reader(path);
      const again = messages(await third.waitFor(/"after"/));
      expect(again.slice(0, 2)).toEqual([
        "log client went away; logging to stderr until the next one connects",
        "after",
      ]);
      expect(messages(fallback.join("")).slice(-2)).toEqual([
        "log client went away; logging to stderr until the next one connects",
        "after",
      ]);
      third.socket.destroy();
    } finally {
      await port.close();
    }
  });

  it("keeps only the newest lines while nobody reads", async () => {
    const path = join(dir, "b.sock");
    const log = Logger.create("info", () => {});
    const port = await startLogPort(log, { scheme: "unix", path, abstract: false }, () => {});
    try {
      const filler = "x".repeat(1000);
      const count = Math.ceil((2 * MAX_KEPT) / 1000);
      for (let i = 0; i < count; i++) log.info("line", { i, filler });
      const client = reader(path);
      const text = await client.waitFor(/logging to a client/);
      const lines = text.trim().split("\n");
      const indexes = lines.slice(0, -1).map((l) => (JSON.parse(l) as { i: number }).i);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_KEPT + 4096);
      expect(indexes.at(-1)).toBe(count - 1); // the newest kept
      expect(indexes[0]).toBeGreaterThan(0); // the oldest dropped
      client.socket.destroy();
    } finally {
      await port.close();
    }
  });
});
