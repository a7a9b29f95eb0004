import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  configureTimeSync,
  PTP_REFCLOCK,
  ptpChronyConf,
} from "../../../../builder/src/stages/configure-time-sync.js";
import { Progress } from "../../../../builder/src/util/progress.js";

const debianConf =
  "pool 2.debian.pool.ntp.org iburst\nsourcedir /run/chrony-dhcp\ndriftfile /var/lib/chrony/chrony.drift\nmakestep 1 3\n";

describe("chrony for a Kata guest", () => {
  it("takes time from the PTP KVM clock instead of the network, stepping whenever off by a second", () => {
    const conf = ptpChronyConf(debianConf);
    expect(conf).toContain("#pool 2.debian.pool.ntp.org iburst");
    expect(conf).toContain("#makestep 1 3");
    expect(conf).toMatch(/^refclock PHC \/dev\/ptp0 poll 3 dpoll -2 offset 0$/m);
    expect(conf).toMatch(/^makestep 1 -1$/m);
    expect(conf).toContain("sourcedir /run/chrony-dhcp");
  });

  it("configures the chrony it finds, and under systemd starts it only where /dev/ptp0 exists", async () => {
    const root = mkdtempSync(join(tmpdir(), "kb-chrony-"));
    mkdirSync(join(root, "etc/chrony"), { recursive: true });
    mkdirSync(join(root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(join(root, "etc/chrony/chrony.conf"), debianConf);
    writeFileSync(join(root, "usr/lib/systemd/system/chrony.service"), "[Service]\n");
    const ctx = {
      root,
      init: "systemd" as const,
      progress: new Progress({ quiet: true }),
      epoch: 0,
      manifest: {},
      artifacts: [],
    };
    await configureTimeSync(ctx);
    expect(readFileSync(join(root, "etc/chrony/chrony.conf"), "utf8")).toContain(PTP_REFCLOCK);
    const dropIn = readFileSync(join(root, "etc/systemd/system/chrony.service.d/kata.conf"), "utf8");
    expect(dropIn).toMatch(/^ConditionPathExists=\/dev\/ptp0$/m);
    expect(dropIn).toMatch(/^StateDirectory=$/m);
    expect(ctx.manifest).toMatchObject({ timeSync: { chrony: true, unit: "chrony.service" } });
  });

  it("leaves a root without chrony alone", async () => {
    const root = mkdtempSync(join(tmpdir(), "kb-chrony-"));
    const ctx = {
      root,
      init: "agent" as const,
      progress: new Progress({ quiet: true }),
      epoch: 0,
      manifest: {},
      artifacts: [],
    };
    await configureTimeSync(ctx);
    expect(ctx.manifest).toEqual({ timeSync: { chrony: false } });
  });
});
