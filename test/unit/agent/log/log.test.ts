// The JSON logger: a record's own keys (ts, level, msg, and the agent's pid) come first and no
// field of an event can overwrite them.
import { describe, expect, it } from "vitest";
import { Logger } from "../../../../agent/src/log.js";

function capture(): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = Logger.create("debug", (line) => records.push(JSON.parse(line) as Record<string, unknown>));
  return { log, records };
}

describe("Logger", () => {
  it("keeps the agent's pid when an event carries a pid of its own", () => {
    const { log, records } = capture();
    log.child({ container: "c1" }).info("process started", { pid: 4242, exec: "e1" });
    log.child({ pid: 7, level: "nope" }).warn("child fields too", { ts: "then", msg: "other" });
    expect(records[0]).toMatchObject({
      level: "info",
      msg: "process started",
      pid: process.pid,
      container: "c1",
      exec: "e1",
      shadowed: { pid: 4242 },
    });
    expect(records[1]).toMatchObject({
      level: "warn",
      msg: "child fields too",
      pid: process.pid,
      shadowed: { pid: 7, level: "nope", ts: "then", msg: "other" },
    });
    expect(Object.keys(records[0]!).slice(0, 4)).toEqual(["ts", "level", "msg", "pid"]);
  });

  it("writes no shadowed member when nothing collides", () => {
    const { log, records } = capture();
    log.info("plain", { processPid: 5 });
    expect(records[0]).not.toHaveProperty("shadowed");
    expect(records[0]).toMatchObject({ pid: process.pid, processPid: 5 });
  });
});
