// Time sync as init: chronyd starts only with the host's PTP clock and chrony installed, and runs
// in the foreground so the agent supervises it.
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planTimeSync } from "../../../../agent/src/init/time-sync.js";
import { chronydArgs, runChronyd } from "../../../../agent/src/tools/chronyd.js";

const having =
  (...paths: string[]) =>
  (p: string) =>
    paths.includes(p);

describe("time sync as init", () => {
  it("needs the PTP clock first: under TCG there is none", () => {
    const plan = planTimeSync(having("/usr/sbin/chronyd", "/etc/chrony/chrony.conf"));
    expect(plan).toEqual({ start: false, reason: expect.stringContaining("/dev/ptp0") });
  });

  it("needs chronyd and its configuration", () => {
    expect(planTimeSync(having("/dev/ptp0", "/etc/chrony/chrony.conf"))).toMatchObject({ start: false });
    expect(planTimeSync(having("/dev/ptp0", "/usr/sbin/chronyd"))).toMatchObject({ start: false });
  });

  it("finds Debian's and Azure Linux's layouts", () => {
    expect(planTimeSync(having("/dev/ptp0", "/usr/sbin/chronyd", "/etc/chrony/chrony.conf"))).toEqual({
      start: true,
      binary: "/usr/sbin/chronyd",
      config: "/etc/chrony/chrony.conf",
    });
    expect(planTimeSync(having("/dev/ptp0", "/usr/sbin/chronyd", "/etc/chrony.conf"))).toMatchObject({
      config: "/etc/chrony.conf",
    });
  });

  it("runs the daemon in the foreground with the given configuration and its log on our fd", async () => {
    expect(chronydArgs("/etc/chrony.conf")).toEqual(["-d", "-L", "1", "-f", "/etc/chrony.conf"]);
    // A stand-in binary records how it was started: the arguments and where its stderr goes.
    const dir = mkdtempSync(path.join(tmpdir(), "chronyd-"));
    const fake = path.join(dir, "chronyd");
    const log = path.join(dir, "stderr.log");
    writeFileSync(fake, `#!/bin/sh\necho "$@" >&2\n`);
    chmodSync(fake, 0o755);
    const fd = openSync(log, "w");
    const result = await runChronyd(fake, "/etc/chrony.conf", fd);
    closeSync(fd);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("-d -L 1 -f /etc/chrony.conf\n");
  });
});
