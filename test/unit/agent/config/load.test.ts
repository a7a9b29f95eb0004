import { describe, expect, it } from "vitest";
import { parseCmdline } from "../../../../agent/src/config/cmdline.js";
import { ConfigError, loadConfig } from "../../../../agent/src/config/load.js";

const files = (map: Record<string, string>) => (path: string) => {
  const text = map[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
  return text;
};

describe("kernel command line", () => {
  it("splits words, keeps quoted spaces and values containing '='", () => {
    expect(
      parseCmdline(
        'console=ttyS0 quiet dm-mod.create="dm-verity,,,ro,0 8 verity 1" agent.server_addr=unix://a=b\n',
      ),
    ).toEqual([
      { name: "console", value: "ttyS0" },
      { name: "quiet" },
      { name: "dm-mod.create", value: "dm-verity,,,ro,0 8 verity 1" },
      { name: "agent.server_addr", value: "unix://a=b" },
    ]);
  });
});

describe("configuration sources and precedence", () => {
  it("uses upstream defaults with an empty command line", () => {
    const { config, warnings } = loadConfig({ cmdline: "", env: {} });
    expect(config.serverAddr).toEqual([{ scheme: "vsock", cid: 0xffffffff, port: 1024 }]);
    expect(config.logLevel).toBe("info");
    expect(config.hotplugTimeoutMs).toBe(3000);
    expect(config.grpcAddr).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it("applies agent.* parameters, then lets the environment override them", () => {
    const { config } = loadConfig({
      cmdline:
        "root=/dev/vda1 agent.log=debug agent.server_addr=unix:///run/a.sock agent.hotplug_timeout=10 agent.debug_console agent.trace=false",
      env: { KATA_AGENT_LOG_LEVEL: "warning", KATA_AGENT_GRPC_ADDR: "tcp://127.0.0.1:5000" },
    });
    expect(config.logLevel).toBe("warn");
    expect(config.serverAddr).toEqual([{ scheme: "unix", path: "/run/a.sock", abstract: false }]);
    expect(config.grpcAddr).toEqual({ scheme: "tcp", host: "127.0.0.1", port: 5000 });
    expect(config.hotplugTimeoutMs).toBe(10_000);
    expect(config.debugConsole).toBe(true);
    expect(config.tracing).toBe(false);
  });

  it("listens on several addresses given comma-separated", () => {
    const { config } = loadConfig({
      cmdline: "agent.server_addr=serial://agent.channel.0,vsock://-1:1024",
      env: {},
    });
    expect(config.serverAddr).toEqual([
      { scheme: "serial", name: "agent.channel.0" },
      { scheme: "vsock", cid: 0xffffffff, port: 1024 },
    ]);
  });

  it("turns cgroup v2 on from either spelling", () => {
    expect(loadConfig({ cmdline: "cgroup_no_v1=all", env: {} }).config.unifiedCgroupHierarchy).toBe(true);
    expect(
      loadConfig({ cmdline: "systemd.unified_cgroup_hierarchy=1", env: {} }).config.unifiedCgroupHierarchy,
    ).toBe(true);
    expect(loadConfig({ cmdline: "cgroup_no_v1=memory", env: {} }).config.unifiedCgroupHierarchy).toBe(false);
  });

  it("reads agent.config_file instead of everything else, as upstream does", () => {
    const { config, sources } = loadConfig({
      cmdline: "agent.config_file=/etc/agent.toml agent.log=trace",
      env: { KATA_AGENT_LOG_LEVEL: "error" },
      readFile: files({
        "/etc/agent.toml":
          'server_addr = "tcp://127.0.0.1:9000"\nlog_level = "debug"\nhotplug_timeout = { secs = 5, nanos = 500000000 }\n',
      }),
    });
    expect(sources).toEqual(["toml:/etc/agent.toml"]);
    expect(config.logLevel).toBe("debug");
    expect(config.serverAddr).toEqual([{ scheme: "tcp", host: "127.0.0.1", port: 9000 }]);
    expect(config.hotplugTimeoutMs).toBe(5500);
  });

  it("with --config, reads the TOML file and then the environment", () => {
    const { config } = loadConfig({
      configFile: "/c.toml",
      env: { KATA_AGENT_LOG_LEVEL: "trace" },
      readFile: files({ "/c.toml": 'log_level = "error"\ncontainer_pipe_size = 65536\n' }),
    });
    expect(config.logLevel).toBe("trace");
    expect(config.containerPipeSize).toBe(65536);
  });

  it("warns about unknown parameters and keys but never aborts on them", () => {
    const { warnings } = loadConfig({ cmdline: "agent.no_such_thing=1 agent.bogus", env: {} });
    expect(warnings).toEqual([
      "unknown kernel parameter 'agent.no_such_thing' ignored",
      "unknown kernel parameter 'agent.bogus' ignored",
    ]);
    const toml = loadConfig({
      configFile: "/c.toml",
      env: {},
      readFile: files({ "/c.toml": "[endpoints]\nallowed = []\n" }),
    });
    expect(toml.warnings).toEqual(["/c.toml: unknown key 'endpoints' ignored"]);
  });

  it("rejects bad values with an error naming the parameter", () => {
    const bad =
      (cmdline: string, env: Record<string, string> = {}) =>
      () =>
        loadConfig({ cmdline, env });
    expect(bad("agent.hotplug_timeout=soon")).toThrowError(
      /^agent\.hotplug_timeout: invalid value "soon": expected a number of seconds/,
    );
    expect(bad("agent.log=loud")).toThrowError(/^agent\.log: .*expected one of trace/);
    expect(bad("agent.server_addr=http://x:1")).toThrowError(
      /^agent\.server_addr: .*unknown scheme 'http:\/\/'/,
    );
    expect(bad("agent.server_addr")).toThrowError(/^agent\.server_addr: needs a value/);
    expect(bad("", { KATA_AGENT_SERVER_ADDR: "vsock://3" })).toThrowError(
      /^KATA_AGENT_SERVER_ADDR: .*missing ':<port>'/,
    );
    expect(bad("agent.container_pipe_size=-1")).toThrow(ConfigError);
    expect(() =>
      loadConfig({ configFile: "/c.toml", env: {}, readFile: files({ "/c.toml": "log_level = " }) }),
    ).toThrowError(/^config file \/c\.toml: /);
  });
});
