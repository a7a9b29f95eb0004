// The network manager in-process, its tools pointed into a namespace made for this file through
// small wrapper scripts: the legacy iptables backend (the RPC test covers the default one),
// IPv6 switched off in the guest, long link names, concurrent renames and cancellation.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterfaceSchema } from "../../../../agent/gen/types_pb.js";
import { DeviceManager } from "../../../../agent/src/devices/index.js";
import { NetworkManager } from "../../../../agent/src/network/index.js";
import { addVeth, createNetns, linkByMac, type Netns } from "./netns.js";

let ns: Netns;
let dir: string;
let manager: NetworkManager;

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeAll(async () => {
  ns = await createNetns();
  dir = mkdtempSync(join(tmpdir(), "kata-net-manager-"));
  mkdirSync(join(dir, "legacy"));
  for (const family of ["iptables", "ip6tables"])
    for (const command of ["save", "restore"])
      script(
        join(dir, "legacy", `${family}-${command}`),
        `exec ip netns exec ${ns.name} ${family}-legacy-${command} "$@"`,
      );
  // A guest with IPv6 switched off, as /proc/sys shows it.
  for (const which of ["all", "default"]) {
    mkdirSync(join(dir, "proc-sys/net/ipv6/conf", which), { recursive: true });
    writeFileSync(join(dir, "proc-sys/net/ipv6/conf", which, "disable_ipv6"), "1\n");
  }
  manager = new NetworkManager({
    devices: new DeviceManager({ hotplugTimeoutMs: 1000, rescanBuses: false }),
    ipBinary: script(join(dir, "ip"), `exec ip -n ${ns.name} "$@"`),
    iptablesDirs: [join(dir, "legacy")],
    procSys: join(dir, "proc-sys"),
  });
});

afterAll(async () => {
  await ns?.delete();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("iptables-legacy backend", () => {
  for (const ipv6 of [false, true]) {
    const tool = ipv6 ? "ip6tables" : "iptables";
    const source = ipv6 ? "fd00:66::7/128" : "10.66.0.7/32";

    it(`${tool}: loads and reads back a ruleset through ${tool}-legacy-restore/-save`, async () => {
      const rules = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s ${source} -j DROP\nCOMMIT\n`;
      await manager.setIpTables(ipv6, new TextEncoder().encode(rules));
      const got = new TextDecoder().decode(await manager.getIpTables(ipv6));
      expect(got).toContain(`-A INPUT -s ${source} -j DROP`);
      expect((await ns.exec(`${tool}-legacy-save`, [])).stdout).toContain(`-A INPUT -s ${source} -j DROP`);
      // The nf_tables backend is a separate set of tables; it did not get the rule.
      expect((await ns.exec(`${tool}-nft-save`, [])).stdout).not.toContain(source);
    });
  }
});

describe("updateInterface", () => {
  it("skips IPv6 addresses when IPv6 is disabled in the guest, and adds the rest", async () => {
    const mac = "02:00:00:d0:00:01";
    await addVeth(ns, "veth-d", mac, "peer-d");
    const iface = create(InterfaceSchema, {
      hwAddr: mac,
      name: "eth0",
      IPAddresses: [
        { address: "10.66.0.2", mask: "24" },
        { address: "fd00:66::2", mask: "64" },
      ],
    });
    expect(await manager.updateInterface(iface)).toBe(iface);
    const link = await linkByMac(ns, mac);
    expect(link?.addr_info?.map((a) => a.local)).toContain("10.66.0.2");
    expect(link?.addr_info?.map((a) => a.local)).not.toContain("fd00:66::2");
  });

  it("swaps with a link whose name is too long for the usual '<name>_temp'", async () => {
    const mac = "02:00:00:e0:00:01";
    await addVeth(ns, "veth-e", mac, "abcdefghijkl");
    const holderMac = (await ns.ipJson<{ address: string }[]>("link", "show", "abcdefghijkl"))[0]!.address;
    await manager.updateInterface(create(InterfaceSchema, { hwAddr: mac, name: "abcdefghijkl" }));
    expect((await linkByMac(ns, mac))?.ifname).toBe("abcdefghijkl");
    expect((await linkByMac(ns, holderMac))?.ifname).toBe("veth-e");
  });

  it("runs concurrent changes one at a time, so crossing renames both land", async () => {
    const [p, q] = ["02:00:00:f0:00:01", "02:00:00:f0:00:02"];
    await addVeth(ns, "n1", p, "peer-n1");
    await addVeth(ns, "n2", q, "peer-n2");
    await Promise.all([
      manager.updateInterface(create(InterfaceSchema, { hwAddr: p, name: "n2", mtu: 1450n })),
      manager.updateInterface(create(InterfaceSchema, { hwAddr: q, name: "n1", mtu: 1460n })),
    ]);
    expect(await linkByMac(ns, p)).toMatchObject({ ifname: "n2", mtu: 1450 });
    expect(await linkByMac(ns, q)).toMatchObject({ ifname: "n1", mtu: 1460 });
  });
});

describe("cancellation", () => {
  it("answers CANCELLED when the call has gone away", async () => {
    await expect(manager.listInterfaces({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      kind: "cancelled",
    });
  });
});
