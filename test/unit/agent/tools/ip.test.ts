// The argument vectors Iproute2 builds, seen by a stand-in `ip` that prints them one per line.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Iproute2, type RouteSpec } from "../../../../agent/src/tools/ip.js";
import { stdoutText } from "../../../../agent/src/tools/run.js";

const dir = mkdtempSync(join(tmpdir(), "kata-ip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const echo = new Iproute2(script("ip-echo", 'printf "%s\\n" "$@"'));
const args = async (p: ReturnType<Iproute2["run"]>) =>
  stdoutText(await p)
    .trimEnd()
    .split("\n");

const route: RouteSpec = {
  family: 4,
  dest: "",
  gateway: "",
  device: "eth0",
  prefSource: "",
  fromPrefix: "",
  scope: 0,
  mtu: 0,
  onlink: false,
};

describe("Iproute2 commands", () => {
  it("sets link attributes in one command, the name after `dev`", async () => {
    expect(await args(echo.setLink("eth0", { name: "eth1", mtu: 1400, arp: false, up: true }))).toEqual(
      "link set dev eth0 name eth1 mtu 1400 arp off up".split(" "),
    );
    expect(await args(echo.setLink("help", { up: false }))).toEqual(["link", "set", "dev", "help", "down"]);
  });

  it("replaces addresses", async () => {
    expect(await args(echo.replaceAddress("eth0", 6, "fd00::2/64"))).toEqual(
      "-6 addr replace fd00::2/64 dev eth0".split(" "),
    );
  });

  it("replaces routes in the main table with protocol boot", async () => {
    expect(await args(echo.replaceRoute({ ...route, gateway: "10.0.0.1" }))).toEqual(
      "-4 route replace default via 10.0.0.1 dev eth0 proto boot scope 0 table main".split(" "),
    );
    expect(
      await args(
        echo.replaceRoute({
          ...route,
          dest: "10.1.0.0/16",
          prefSource: "10.0.0.2",
          scope: 253,
          mtu: 1300,
          onlink: true,
        }),
      ),
    ).toEqual(
      "-4 route replace 10.1.0.0/16 dev eth0 src 10.0.0.2 proto boot scope 253 table main mtu 1300 onlink".split(
        " ",
      ),
    );
    expect(
      await args(echo.replaceRoute({ ...route, family: 6, dest: "2001:db8::/64", fromPrefix: "fd00::/64" })),
    ).toEqual(
      "-6 route replace 2001:db8::/64 dev eth0 from fd00::/64 proto boot scope 0 table main".split(" "),
    );
  });

  it("replaces neighbours with their NUD state, and proxy entries", async () => {
    const n = {
      family: 4 as const,
      address: "10.0.0.9",
      device: "eth0",
      lladdr: "02:00:00:00:00:09",
      state: 0x80,
      router: false,
      proxy: false,
      externLearn: false,
      use: false,
    };
    expect(await args(echo.replaceNeighbour(n))).toEqual(
      "-4 neigh replace 10.0.0.9 dev eth0 lladdr 02:00:00:00:00:09 nud 0x80".split(" "),
    );
    expect(await args(echo.replaceNeighbour({ ...n, proxy: true, router: true }))).toEqual(
      "-4 neigh replace proxy 10.0.0.9 dev eth0 router".split(" "),
    );
  });
});

describe("Iproute2 queries", () => {
  it("asks for JSON with details (links) and numbers (routes)", async () => {
    const seen = join(dir, "seen");
    const ip = new Iproute2(script("ip-record", `printf "%s " "$@" >> ${seen}; echo >> ${seen}; echo '[]'`));
    await ip.links();
    await ip.routes(6);
    expect(
      readFileSync(seen, "utf8")
        .split("\n")
        .map((l) => l.trim()),
    ).toEqual(["-json -details link show", "-6 -json -N route show table main", ""]);
  });

  it("turns a failed or unreadable query into a runtime failure naming the command", async () => {
    const failing = new Iproute2(script("ip-fail", "echo 'Cannot open netlink socket' >&2; exit 1"));
    await expect(failing.links()).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringContaining("Cannot open netlink socket"),
    });
    const garbage = new Iproute2(script("ip-garbage", "echo 'not json'"));
    await expect(garbage.routes(4)).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringMatching(/unexpected output from .*ip-garbage -4 -json -N route show table main/),
    });
  });
});
