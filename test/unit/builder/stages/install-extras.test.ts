// install-extras on a scratch root: where each addition lands, what the manifest records, that
// a link in the root cannot lead a write onto the host, and the refusals of bad input.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { With } from "../../../../builder/src/context.js";
import { type ExtrasInput, installExtras } from "../../../../builder/src/stages/install-extras.js";
import { Progress } from "../../../../builder/src/util/progress.js";

const scratch = mkdtempSync(join(tmpdir(), "kb-extras-"));
let n = 0;

function context(): With<"root"> {
  const root = join(scratch, `root-${n++}`);
  mkdirSync(join(root, "usr/lib"), { recursive: true });
  // Merged /usr with an absolute link, as Debian has: writes under /lib must stay in the root.
  symlinkSync("/usr/lib", join(root, "lib"));
  return { root, progress: new Progress({ quiet: true }), epoch: 0, manifest: {}, artifacts: [] };
}

function file(name: string, text: string, mode = 0o644): string {
  const p = join(scratch, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

const none: ExtrasInput = { files: [], overlays: [] };

describe("install-extras", () => {
  it("installs a policy where the agent is told to load it, JSON or TOML", async () => {
    const ctx = context();
    const json = file("p.json", JSON.stringify({ version: 1, default: "deny", rules: [] }));
    await installExtras(ctx, { ...none, policy: json });
    expect(readFileSync(join(ctx.root, "etc/kata-agent/policy.json"), "utf8")).toBe(
      readFileSync(json, "utf8"),
    );
    expect(readFileSync(join(ctx.root, "etc/kata-agent/environment"), "utf8")).toBe(
      "KATA_AGENT_POLICY_FILE=/etc/kata-agent/policy.json\n",
    );
    expect(ctx.manifest.extras).toMatchObject({
      policy: { path: "/etc/kata-agent/policy.json", source: json },
    });

    const again = context();
    await installExtras(again, { ...none, policy: file("p.toml", 'version = 1\ndefault = "allow"\n') });
    expect(existsSync(join(again.root, "etc/kata-agent/policy.toml"))).toBe(true);
    expect(readFileSync(join(again.root, "etc/kata-agent/environment"), "utf8")).toContain("policy.toml");
  });

  it("refuses a Rego policy and one that is not kata-rules/1", async () => {
    const rego = file("p.rego.json", "package agent_policy\n\ndefault CreateContainerRequest := true\n");
    await expect(installExtras(context(), { ...none, policy: rego })).rejects.toThrow(/it is Rego/);
    const old = file("old.json", JSON.stringify({ version: 2, default: "allow" }));
    await expect(installExtras(context(), { ...none, policy: old })).rejects.toThrow(/needs version = 1/);
  });

  it("lays hooks into /usr/share/oci/hooks by kind, and refuses what the agent would not run", async () => {
    const hooks = join(scratch, "hooks");
    file("hooks/prestart/10-a", "#!/bin/sh\n", 0o755);
    file("hooks/poststop/20-b", "#!/bin/sh\n", 0o755);
    const ctx = context();
    await installExtras(ctx, { ...none, hooks });
    expect(statSync(join(ctx.root, "usr/share/oci/hooks/prestart/10-a")).mode & 0o111).toBe(0o111);
    expect(ctx.manifest.extras).toMatchObject({ hooks: { prestart: ["10-a"], poststop: ["20-b"] } });

    file("bad-hooks/prestart/not-exec", "#!/bin/sh\n", 0o644);
    await expect(installExtras(context(), { ...none, hooks: join(scratch, "bad-hooks") })).rejects.toThrow(
      /not an executable file/,
    );
    file("odd-hooks/createRuntime/x", "#!/bin/sh\n", 0o755);
    await expect(installExtras(context(), { ...none, hooks: join(scratch, "odd-hooks") })).rejects.toThrow(
      /is not one of the hook directories/,
    );
  });

  it("adds files and trees inside the root, through the root's own links", async () => {
    const ctx = context();
    const motd = file("motd", "hello\n");
    file("tree/lib/extra/data.txt", "data\n");
    file("tree/etc/extra.conf", "x=1\n", 0o600);
    await installExtras(ctx, {
      files: [{ source: motd, dest: "/lib/motd" }],
      overlays: [join(scratch, "tree")],
    });
    // /lib -> /usr/lib resolved inside the root, never on the host.
    expect(readFileSync(join(ctx.root, "usr/lib/motd"), "utf8")).toBe("hello\n");
    expect(readFileSync(join(ctx.root, "usr/lib/extra/data.txt"), "utf8")).toBe("data\n");
    expect(statSync(join(ctx.root, "etc/extra.conf")).mode & 0o777).toBe(0o600);
    expect(existsSync("/usr/lib/motd")).toBe(false);
    expect(ctx.manifest.extras).toMatchObject({
      files: [{ dest: "/lib/motd", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }],
      overlays: [{ files: 2 }],
    });
  });

  it("refuses a missing source and a relative destination", async () => {
    await expect(
      installExtras(context(), { ...none, files: [{ source: join(scratch, "none"), dest: "/x" }] }),
    ).rejects.toThrow(/does not exist/);
    await expect(
      installExtras(context(), { ...none, files: [{ source: file("f", ""), dest: "etc/x" }] }),
    ).rejects.toThrow(/must be an absolute path/);
    await expect(installExtras(context(), { ...none, overlays: [file("g", "")] })).rejects.toThrow(
      /is not a directory/,
    );
  });
});
