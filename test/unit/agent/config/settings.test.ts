// Every setting the agent accepts either does something or says that it does not: the table
// marks the accepted-but-unsupported ones, and the agent's code reads every other one. So a new
// upstream parameter cannot be added to the table and then silently ignored.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig, settingsHelp } from "../../../../agent/src/config/load.js";
import { type Setting, settings } from "../../../../agent/src/config/table.js";

const src = fileURLToPath(new URL("../../../../agent/src", import.meta.url));
const entries = Object.entries(settings) as [keyof typeof settings, Setting<unknown>][];

/** The agent's code outside config/, where settings are acted on. */
function agentCode(): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
    );
  return walk(src)
    .filter((file) => !file.startsWith(path.join(src, "config")))
    .map((file) => readFileSync(file, "utf8"))
    .join("\n");
}

/** How to give the setting `raw`: its kernel parameter, else its variable, else its TOML key. */
function give(s: Setting<unknown>, raw: string) {
  if (s.cmdline) return loadConfig({ cmdline: `${s.cmdline}=${raw}`, env: {} });
  if (s.env) return loadConfig({ cmdline: "", env: { [s.env]: raw } });
  return loadConfig({
    configFile: "/agent.toml",
    env: {},
    readFile: () => `${s.toml} = ${JSON.stringify(raw)}\n`,
  });
}

/** A value the setting parses but `honours` does not accept (the agent cannot do it). */
function unhonouredValue(s: Setting<unknown>): string {
  const candidates = ["true", "7", "resource", "attestation-agent", "http://proxy:3128", "false"];
  const found = candidates.find((raw) => {
    try {
      const value = s.parse(raw);
      return !(s.honours?.(value) ?? false);
    } catch {
      return false;
    }
  });
  if (found === undefined) throw new Error(`no test value for ${s.cmdline ?? s.env ?? s.toml}`);
  return found;
}

describe("every setting", () => {
  const code = agentCode();

  it.each(entries.filter(([, s]) => s.unsupported === undefined))("%s is read by the agent's code", (key) => {
    expect(code).toMatch(new RegExp(`\\bconfig\\.${key}\\b`));
  });

  it.each(entries.filter(([, s]) => s.unsupported !== undefined))(
    "%s is marked unsupported and read nowhere",
    (key) => {
      expect(code).not.toMatch(new RegExp(`\\bconfig\\.${key}\\b`));
    },
  );

  it("has a name in some source", () => {
    for (const [key, s] of entries) expect(s.cmdline ?? s.env ?? s.toml, key).toBeDefined();
  });
});

describe("an unsupported setting", () => {
  const unsupported = entries.filter(([, s]) => s.unsupported !== undefined);

  it("exists (the table marks some)", () => {
    expect(unsupported.map(([key]) => key)).toEqual(expect.arrayContaining(["tracing", "cdhApiTimeoutMs"]));
  });

  it.each(unsupported)("%s given is one warning naming it and why", (_key, s) => {
    const { warnings } = give(s, unhonouredValue(s));
    const name = s.cmdline ?? s.env ?? `/agent.toml: ${s.toml}`;
    expect(warnings).toEqual([`${name} is not supported by this agent and is ignored: ${s.unsupported}`]);
  });

  it("given twice (kernel command line and environment) is still one warning", () => {
    const { warnings } = loadConfig({ cmdline: "agent.trace", env: { KATA_AGENT_TRACING: "1" } });
    expect(warnings).toEqual([expect.stringMatching(/^agent\.trace is not supported by this agent/)]);
  });

  it("given with a value the agent already behaves by is no warning", () => {
    const { warnings } = loadConfig({
      cmdline:
        "agent.trace=false agent.passfd_listener_port=0 systemd.unified_cgroup_hierarchy=1 agent.secure_storage_integrity=0 agent.guest_components_procs=none",
      env: {},
    });
    expect(warnings).toEqual([]);
  });

  it("left unset is no warning", () => {
    expect(loadConfig({ cmdline: "console=ttyS0 quiet", env: {} }).warnings).toEqual([]);
  });
});

describe("kata-agent --help", () => {
  const help = settingsHelp();
  const [supported = "", unsupported = ""] = help.split(/^Accepted for compatibility but not supported.*$/m);

  it("lists the supported settings first and the unsupported ones, with why, after", () => {
    for (const [, s] of entries) {
      const first = s.cmdline ?? s.env ?? `toml:${s.toml}`;
      expect(s.unsupported === undefined ? supported : unsupported).toContain(first);
      if (s.unsupported) expect(unsupported).toContain(`(${s.unsupported})`);
    }
    expect(supported).toMatch(/^Supported:/);
    expect(supported).toContain("agent.debug_console");
    expect(unsupported).toContain("agent.trace");
  });
});

describe("settings added for deployed guests", () => {
  it("leave in_guest unset unless given (the agent then decides from how it was started)", () => {
    expect(loadConfig({ cmdline: "", env: {} }).config.inGuest).toBeUndefined();
    expect(loadConfig({ cmdline: "", env: { KATA_AGENT_IN_GUEST: "1" } }).config.inGuest).toBe(true);
    expect(loadConfig({ cmdline: "", env: { KATA_AGENT_IN_GUEST: "false" } }).config.inGuest).toBe(false);
  });

  it("read agent.allow_vsock_loopback as a flag and agent.debug_console_addr as addresses", () => {
    const { config } = loadConfig({
      cmdline:
        "agent.allow_vsock_loopback agent.debug_console agent.debug_console_addr=unix:///run/c.sock,tcp://127.0.0.1:2000,serial://agent.console.0",
      env: {},
    });
    expect(config.allowVsockLoopback).toBe(true);
    expect(config.debugConsole).toBe(true);
    expect(config.debugConsoleAddr).toEqual([
      { scheme: "unix", path: "/run/c.sock", abstract: false },
      { scheme: "tcp", host: "127.0.0.1", port: 2000 },
      { scheme: "serial", name: "agent.console.0" },
    ]);
    expect(loadConfig({ cmdline: "", env: {} }).config.allowVsockLoopback).toBe(false);
    expect(() =>
      loadConfig({ cmdline: "agent.debug_console_addr=hvsock:///vmm.sock:1026", env: {} }),
    ).toThrow(/hvsock:\/\/ is not usable here/);
  });
});
