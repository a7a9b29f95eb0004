// Subreaper and session calls change the calling process for good, so each case runs in its own
// Node child that loads the addon directly and prints what it saw as JSON.
import { execFileSync, spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { locateNative } from "../../../../agent/src/native/index.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

function runChild(script: string, env: Record<string, string> = {}): Record<string, unknown> {
  const prelude = `
    const n = require(process.env.KATA_AGENT_NATIVE);
    const fs = require("node:fs");
    const { spawnSync } = require("node:child_process");
    const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const stat = (pid) => fs.readFileSync("/proc/" + pid + "/stat", "utf8").split(")").pop().trim().split(" ");
    const report = (value) => console.log(JSON.stringify(value));
  `;
  const result = spawnSync(process.execPath, ["-e", prelude + script], {
    encoding: "utf8",
    env: { ...process.env, KATA_AGENT_NATIVE: locateNative(), ...env },
    timeout: 20_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout);
}

// sh backgrounds the command and exits at once, so the command is orphaned while it runs.
const orphanAndReap = `
  if (process.env.SUBREAPER === "1") n.setChildSubreaper();
  const orphan = (cmd) => Number(spawnSync("sh", ["-c", "(" + cmd + ") >/dev/null 2>&1 & echo $!"], { encoding: "utf8" }).stdout);
  const waitFor = (pid) => {
    for (let i = 0; i < 1000; i++, sleep(10)) { const s = n.waitpid(pid); if (s) return s; }
    return "still running";
  };
  const exited = orphan("sleep 0.3; exit 7");
  const ppid = Number(stat(exited)[1]);
  if (process.env.SUBREAPER !== "1") { report({ self: process.pid, ppid }); process.exit(0); }
  const whileRunning = n.waitpid(exited);
  let zombies = [];
  for (let i = 0; i < 1000 && !zombies.includes(exited); i++, sleep(10)) zombies = n.zombieChildren();
  const exitedStatus = n.waitpid(exited);
  let again; try { n.waitpid(exited); } catch (e) { again = { code: e.code, syscall: e.syscall }; }
  const killed = orphan("exec sleep 30");
  process.kill(killed, "SIGKILL");
  report({ self: process.pid, exited, ppid, whileRunning, zombies, exitedStatus, again, killed,
           killedStatus: waitFor(killed), zombiesAfter: n.zombieChildren() });
`;

describe("setChildSubreaper + waitpid + zombieChildren", () => {
  it("re-parents orphans to us and collects their exit status", () => {
    const r = runChild(orphanAndReap, { SUBREAPER: "1" });
    expect(r.ppid).toBe(r.self);
    expect(r.whileRunning).toBeNull();
    expect(r.zombies).toContain(r.exited);
    expect(r.exitedStatus).toEqual({ pid: r.exited, exitCode: 7, signal: null, status: 7 });
    expect(r.again).toEqual({ code: "ECHILD", syscall: "waitpid" });
    expect(r.killedStatus).toEqual({ pid: r.killed, exitCode: null, signal: 9, status: 137 });
    expect(r.zombiesAfter).toEqual([]);
  });

  it("leaves orphans to someone else without it (the control case)", () => {
    const r = runChild(orphanAndReap, { SUBREAPER: "0" });
    expect(r.ppid).not.toBe(r.self);
  });
});

describe("setsid + setControllingTty", () => {
  it("makes a new session whose controlling terminal is the pty slave", () => {
    const r = runChild(`
      const attempt = (fn) => { try { fn(); return "ok"; } catch (e) { return e.code; } };
      const [master, slave] = n.openPty();
      const beforeSetsid = attempt(() => n.setControllingTty(slave));
      const sid = n.setsid();
      const secondSetsid = attempt(() => n.setsid());
      n.setControllingTty(slave);
      const fields = stat("self");
      const devTty = attempt(() => fs.closeSync(fs.openSync("/dev/tty", "r+")));
      report({ pid: process.pid, sid, session: Number(fields[3]), ttyNr: Number(fields[4]),
               slaveRdev: fs.fstatSync(slave).rdev, beforeSetsid, secondSetsid, devTty, master });
    `);
    expect(r.beforeSetsid).toBe("EPERM"); // not a session leader yet
    expect(r.sid).toBe(r.pid);
    expect(r.session).toBe(r.pid);
    expect(r.secondSetsid).toBe("EPERM"); // already a session leader
    expect(r.ttyNr).toBe(r.slaveRdev);
    expect(r.devTty).toBe("ok");
  });
});
