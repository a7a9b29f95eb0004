// Stage: what the user adds to the guest at build time, laid last so that nothing the build
// strips removes it: an agent policy (where the agent is told to load it at start), OCI hooks
// for the agent to run in the guest, single files, and whole trees. Each is recorded with its
// digest in the manifest.
import { copyFile, lstat, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { extname, join, posix } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { With } from "../context.js";
import { BuildError } from "../util/errors.js";
import { hostPath, layTree } from "../util/in-root.js";
import { sha256File } from "../util/manifest.js";

/** Where the policy goes, by its format; the agent reads JSON or TOML (kata-rules/1). */
export const POLICY_DIR = "/etc/kata-agent";
/**
 * Settings for the agent fixed at build time, as KEY=value lines: kata-agent.service reads the
 * file (EnvironmentFile=), and /usr/bin/kata-agent reads it when the agent is init.
 */
export const AGENT_ENVIRONMENT = "/etc/kata-agent/environment";
/** The guest hooks directory upstream's runtime configuration names (guest_hook_path). */
export const GUEST_HOOKS_DIR = "/usr/share/oci/hooks";
const HOOK_KINDS = ["prestart", "poststart", "poststop"];

export interface ExtrasInput {
  policy?: string;
  hooks?: string;
  /** Files or directories: host path -> absolute path in the guest. */
  files: { source: string; dest: string }[];
  /** Trees laid onto /. */
  overlays: string[];
}

export async function installExtras(ctx: With<"root">, input: ExtrasInput): Promise<void> {
  const { root } = ctx;
  const record: Record<string, unknown> = {};
  if (input.policy) record.policy = await installPolicy(root, input.policy);
  if (input.hooks) record.hooks = await installHooks(root, input.hooks);
  const files: { source: string; dest: string; sha256?: string; entries?: number }[] = [];
  for (const { source, dest } of input.files) {
    const st = await stat(source).catch(() => undefined);
    if (!st) throw new BuildError(`--add-file: ${source} does not exist`);
    if (!posix.isAbsolute(dest))
      throw new BuildError(`--add-file: the destination '${dest}' must be an absolute path in the guest`);
    if (st.isDirectory()) {
      files.push({ source, dest, entries: (await layTree(source, root, dest)).length });
    } else {
      const target = await hostPath(root, dest);
      await mkdir(join(target, ".."), { recursive: true });
      await copyFile(source, target);
      files.push({ source, dest, sha256: await sha256File(source) });
    }
  }
  if (files.length) record.files = files;
  const overlays: { source: string; files: number }[] = [];
  for (const dir of input.overlays) {
    if (!(await stat(dir).catch(() => undefined))?.isDirectory())
      throw new BuildError(`--overlay: ${dir} is not a directory`);
    overlays.push({ source: dir, files: (await layTree(dir, root, "/")).length });
  }
  if (overlays.length) record.overlays = overlays;
  if (Object.keys(record).length) ctx.manifest.extras = record;
}

/**
 * Checks that the policy is a kata-rules/1 document (JSON or TOML with version 1 and a default;
 * the agent checks the rest when it loads it, and stops if it cannot), installs it, and points
 * the agent at it.
 */
async function installPolicy(root: string, source: string): Promise<Record<string, unknown>> {
  const text = await readFile(source, "utf8").catch((err: Error) => {
    throw new BuildError(`--policy: cannot read ${source}: ${err.message}`);
  });
  const format = policyFormat(source, text);
  const dest = `${POLICY_DIR}/policy.${format}`;
  const target = await hostPath(root, dest);
  await mkdir(join(target, ".."), { recursive: true });
  await writeFile(target, text, { mode: 0o644 });
  await setAgentEnvironment(root, "KATA_AGENT_POLICY_FILE", dest);
  return { source, path: dest, sha256: await sha256File(source) };
}

function policyFormat(source: string, text: string): "json" | "toml" {
  let doc: unknown;
  let format: "json" | "toml";
  try {
    if (extname(source) === ".toml") {
      format = "toml";
      doc = parseToml(text);
    } else {
      format = "json";
      doc = JSON.parse(text);
    }
  } catch (err) {
    const rego = /^\s*package\s+\S+/m.test(text);
    throw new BuildError(
      `--policy: ${source} is not a kata-rules/1 policy: ${rego ? "it is Rego, which this agent does not evaluate" : (err as Error).message}`,
      "write the policy as JSON (.json) or TOML (.toml), as agent/src/policy/README.md describes",
    );
  }
  const d = doc as { version?: unknown; default?: unknown };
  if (d.version !== 1 || (d.default !== "allow" && d.default !== "deny")) {
    throw new BuildError(
      `--policy: ${source} needs version = 1 and default = "allow" or "deny" (kata-rules/1)`,
      "see agent/src/policy/README.md",
    );
  }
  return format;
}

/** Sets KEY=value in the agent's environment file, keeping its other lines. */
async function setAgentEnvironment(root: string, key: string, value: string): Promise<void> {
  const file = await hostPath(root, AGENT_ENVIRONMENT);
  await mkdir(join(file, ".."), { recursive: true });
  const old = await readFile(file, "utf8").catch(() => "");
  const lines = old.split("\n").filter((l) => l && !l.startsWith(`${key}=`));
  await writeFile(file, `${[...lines, `${key}=${value}`].join("\n")}\n`, { mode: 0o644 });
}

/** Lays hooks into the guest hooks directory: only prestart/, poststart/ and poststop/, executables. */
async function installHooks(root: string, dir: string): Promise<Record<string, unknown>> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new BuildError(`--hooks: ${dir} is not a directory`);
  const hooks: Record<string, string[]> = {};
  for (const name of (await readdir(dir)).sort()) {
    const kind: string[] = [];
    hooks[name] = kind;
    if (!HOOK_KINDS.includes(name) || !(await lstat(join(dir, name))).isDirectory()) {
      throw new BuildError(
        `--hooks: ${join(dir, name)} is not one of the hook directories`,
        `put hooks in ${HOOK_KINDS.map((k) => `${dir}/${k}/`).join(", ")}`,
      );
    }
    for (const hook of (await readdir(join(dir, name))).sort()) {
      const h = await stat(join(dir, name, hook));
      if (!h.isFile() || !(h.mode & 0o111)) {
        throw new BuildError(
          `--hooks: ${join(dir, name, hook)} is not an executable file, and the agent runs only those`,
          `chmod +x ${join(dir, name, hook)}`,
        );
      }
      kind.push(hook);
    }
  }
  await layTree(dir, root, GUEST_HOOKS_DIR);
  return { source: dir, path: GUEST_HOOKS_DIR, ...hooks };
}
