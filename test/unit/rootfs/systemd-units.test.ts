// The systemd units a systemd guest starts the agent with (rootfs/common), checked by systemd's
// own verifier against this host's systemd units, and read by the agent's own configuration
// code: the service puts the agent in the guest by itself. The boot of a systemd image (the e2e
// tests) shows the rest.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../agent/src/config/load.js";
import { decideInGuest } from "../../../agent/src/init/in-guest.js";

const common = fileURLToPath(new URL("../../../rootfs/common", import.meta.url));
const units = path.join(common, "usr/lib/systemd/system");
const service = readFileSync(path.join(units, "kata-agent.service"), "utf8");

/**
 * systemd-analyze with its arguments, in a private mount namespace with its own /run: it records
 * a units-load stamp under /run/systemd, which must not be left on this host.
 */
function analyze(args: string[]) {
  return spawnSync(
    "unshare",
    ["--mount", "sh", "-c", 'mount -t tmpfs tmpfs /run && exec systemd-analyze "$@"', "sh", ...args],
    { encoding: "utf8" },
  );
}

/** A root with this host's systemd units, ours over them, and the programs the units run. */
function guestLikeRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), "units-root-"));
  mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
  cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true });
  cpSync(units, path.join(root, "usr/lib/systemd/system"), { recursive: true });
  mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
  copyFileSync(
    path.join(common, "etc/systemd/system/tmp.mount"),
    path.join(root, "etc/systemd/system/tmp.mount"),
  );
  for (const program of ["usr/bin/kata-agent", "bin/sync", "usr/bin/systemctl"]) {
    mkdirSync(path.dirname(path.join(root, program)), { recursive: true });
    writeFileSync(path.join(root, program), "#!/bin/sh\n");
    chmodSync(path.join(root, program), 0o755);
  }
  return root;
}

describe("kata-agent.service and kata-containers.target", () => {
  it("pass systemd-analyze verify without a single complaint", () => {
    const root = guestLikeRoot();
    const result = analyze([
      "verify",
      "--man=no",
      `--root=${root}`,
      "kata-agent.service",
      "kata-containers.target",
    ]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("would fail that check with a unit systemd cannot run (the check can fail)", () => {
    const root = guestLikeRoot();
    writeFileSync(path.join(root, "usr/lib/systemd/system/kata-agent.service"), `${service}\nTyppe=simple\n`);
    const result = analyze(["verify", "--man=no", `--root=${root}`, "kata-agent.service"]);
    expect(result.stderr).toMatch(/Unknown key 'Typpe'/);
  });

  it("put the agent in the guest through its own settings, whatever systemd's facts say", () => {
    const env = Object.fromEntries(
      [...service.matchAll(/^Environment=(\w+)=(\S*)$/gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    const { config, warnings } = loadConfig({ cmdline: "", env });
    expect(warnings).toEqual([]);
    const hostLike = {
      pid: 500,
      ppid: 499,
      systemdBooted: false,
      invocationId: undefined,
      notifySocket: undefined,
      unit: undefined,
    };
    expect(decideInGuest(hostLike, config.inGuest)).toMatchObject({ inGuest: true });
  });
});

describe("systemd-remove.txt", () => {
  it("removes every login prompt unit the distribution's systemd ships", () => {
    const removed = readFileSync(path.join(common, "systemd-remove.txt"), "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    const shipped = execFileSync("dpkg", ["-L", "systemd"], { encoding: "utf8" })
      .split("\n")
      .filter((p) => /\/systemd\/system\/[\w@-]*getty[\w@-]*\.service$/.test(p))
      .map((p) => `system/${path.basename(p)}`);
    expect(shipped.length).toBeGreaterThan(0);
    expect(removed).toEqual(expect.arrayContaining(shipped));
  });
});
