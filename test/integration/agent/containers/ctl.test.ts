// kata-agent-ctl driving a container the way a person at a shell would: a bundle made with
// `runc spec` (relative root path), CreateContainer --spec, then the lifecycle RPCs by flags.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa, execaSync } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlBundle, type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { busyboxRootfs } from "../../../helpers/oci.js";

let a: RunningAgent;
beforeAll(async () => {
  a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
});
afterAll(async () => {
  await a.stop();
});

const ctl = (...args: string[]) =>
  execa(process.execPath, [ctlBundle, "--addr", a.address, ...args], {
    reject: false,
    stripFinalNewline: false,
  });

/** A bundle as `runc spec` writes it, with the busybox rootfs copied in as ./rootfs. */
function bundle(args: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "ctl-bundle-"));
  cpSync(busyboxRootfs(), path.join(dir, "rootfs"), { recursive: true, verbatimSymlinks: true });
  execaSync("runc", ["spec", "--bundle", dir]);
  const file = path.join(dir, "config.json");
  const spec = JSON.parse(readFileSync(file, "utf8")) as {
    process: { terminal: boolean; args: string[] };
    linux: { namespaces: { type: string }[] };
  };
  spec.process.terminal = false;
  spec.process.args = args;
  writeFileSync(file, JSON.stringify(spec));
  return dir;
}

describe("kata-agent-ctl CreateContainer --spec", () => {
  it("creates a container from a runc bundle and streams its output", async () => {
    const dir = bundle(["sh", "-c", "echo hello from a bundle; exit 7"]);
    expect((await ctl("CreateSandbox", "--sandbox-id", "ctl-pod")).exitCode).toBe(0);
    const created = await ctl("CreateContainer", "--container-id", "from-bundle", "--spec", dir);
    expect(created.stderr).toBe("");
    expect(created.exitCode).toBe(0);
    expect((await ctl("StartContainer", "--container-id", "from-bundle")).exitCode).toBe(0);
    const waited = await ctl("WaitProcess", "--container-id", "from-bundle", "--exec-id", "from-bundle");
    expect(JSON.parse(waited.stdout)).toEqual({ status: 7 });
    const out = await ctl("ReadStdout", "--raw", "--container-id", "from-bundle", "--len", "4096");
    expect(out.stdout).toBe("hello from a bundle\n");
    // The same bundle named by its config.json file.
    const byFile = await ctl(
      "CreateContainer",
      "--container-id",
      "by-file",
      "--spec",
      path.join(dir, "config.json"),
    );
    expect(byFile.exitCode).toBe(0);
    for (const id of ["from-bundle", "by-file"])
      expect((await ctl("RemoveContainer", "--container-id", id)).exitCode).toBe(0);
  });

  it("says what is wrong with a missing or malformed spec, and that --spec is CreateContainer's", async () => {
    const missing = await ctl("CreateContainer", "--container-id", "x", "--spec", "/nonexistent/bundle");
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--spec: cannot read \/nonexistent\/bundle \(ENOENT\)/);
    const dir = mkdtempSync(path.join(tmpdir(), "ctl-bad-"));
    writeFileSync(path.join(dir, "config.json"), "{ not json");
    const malformed = await ctl("CreateContainer", "--container-id", "x", "--spec", dir);
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toMatch(/config\.json is not valid JSON/);
    const elsewhere = await ctl("StartContainer", "--container-id", "x", "--spec", dir);
    expect(elsewhere.exitCode).toBe(2);
    expect(elsewhere.stderr).toContain("--spec is for CreateContainer, not StartContainer");
  });

  it("shows message fields such as OCI in a method's help", async () => {
    const help = await ctl("CreateContainer", "--help");
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('"OCI": {}');
    expect(help.stdout).toContain("--spec PATH");
  });
});
