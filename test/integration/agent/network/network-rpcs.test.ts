// The seven networking RPCs over ttrpc, against the bundled agent running inside a network
// namespace made for this file, with veth pairs as the guest's NICs. Every check reads the
// kernel's state back with `ip` (or iptables-save), not with the agent.
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Interface, InterfaceSchema, IPFamily } from "../../../../agent/gen/types_pb.js";
import { type AgentError, Code } from "../../../../agent/src/client/index.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { addVeth, createNetns, type JsonLink, linkByMac, type Netns } from "./netns.js";

const MAC_A = "02:00:00:a0:00:01";
const MAC_B = "02:00:00:b0:00:01";
const MAC_LATE = "02:00:00:c0:00:01";
const IFF_NOARP = 0x80;

let ns: Netns;
let agent: RunningAgent;

beforeAll(async () => {
  ns = await createNetns();
  try {
    await addVeth(ns, "veth-a", MAC_A, "peer-a");
    await addVeth(ns, "veth-b", MAC_B, "peer-b");
    // A link that already holds the name UpdateInterface will give veth-b.
    await ns.ip("link", "set", "peer-b", "down");
    await ns.ip("link", "set", "peer-b", "name", "eth1");
    await ns.ip("link", "set", "eth1", "up");
    agent = await startAgent({ netns: ns.name, cmdline: "agent.hotplug_timeout=1" });
  } catch (err) {
    await ns.delete();
    throw err;
  }
});

afterAll(async () => {
  try {
    await agent?.stop();
  } finally {
    await ns?.delete();
  }
});

async function rpcError(call: Promise<unknown>): Promise<AgentError> {
  try {
    await call;
  } catch (err) {
    return err as AgentError;
  }
  throw new Error("the call succeeded but should have failed");
}

function eth0(): Interface {
  return create(InterfaceSchema, {
    hwAddr: MAC_A,
    name: "eth0",
    mtu: 1400n,
    rawFlags: IFF_NOARP,
    IPAddresses: [
      { family: IPFamily.v4, address: "10.77.0.2", mask: "24" },
      { family: IPFamily.v6, address: "fd00:77::2", mask: "64" },
    ],
  });
}

describe("UpdateInterface", () => {
  it("finds the link by MAC, renames it, sets MTU, addresses and NOARP, and brings it up", async () => {
    const reply = await agent.agent.updateInterface({ interface: eth0() });
    expect(reply.name).toBe("eth0");
    expect(reply.hwAddr).toBe(MAC_A);

    const link = (await linkByMac(ns, MAC_A)) as JsonLink;
    expect(link.ifname).toBe("eth0");
    expect(link.mtu).toBe(1400);
    expect(link.flags).toEqual(expect.arrayContaining(["UP", "NOARP"]));
    expect(link.addr_info).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ family: "inet", local: "10.77.0.2", prefixlen: 24 }),
        expect.objectContaining({ family: "inet6", local: "fd00:77::2", prefixlen: 64 }),
      ]),
    );
  });

  it("is idempotent: the runtime's rescan may send the same interface again", async () => {
    await agent.agent.updateInterface({ interface: eth0() });
    const link = (await linkByMac(ns, MAC_A)) as JsonLink;
    expect(link.ifname).toBe("eth0");
    expect(link.addr_info?.filter((a) => a.local === "10.77.0.2")).toHaveLength(1);
  });

  it("swaps names with the link that holds the wanted one", async () => {
    const before = await ns.ipJson<JsonLink[]>("link", "show", "eth1");
    const holderMac = before[0]!.address;
    await agent.agent.updateInterface({
      interface: { hwAddr: MAC_B, name: "eth1", IPAddresses: [{ address: "10.78.0.2", mask: "24" }] },
    });
    expect((await linkByMac(ns, MAC_B))?.ifname).toBe("eth1");
    const holder = (await linkByMac(ns, holderMac)) as JsonLink;
    expect(holder.ifname).toBe("veth-b");
    // It was up before the swap and is up again.
    expect(holder.flags).toContain("UP");
    // ARP stays on when raw_flags has no IFF_NOARP.
    expect((await linkByMac(ns, MAC_B))?.flags).not.toContain("NOARP");
  });

  it("answers INTERNAL 'Link not found (Address: ...)' for a NIC that is not there, until it is", async () => {
    const request = { interface: { hwAddr: MAC_LATE, name: "eth2", IPAddresses: [] } };
    const err = await rpcError(agent.agent.updateInterface(request));
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toContain(`Link not found (Address: ${MAC_LATE})`);

    // The NIC arrives (as after a hot-plug); the runtime's retry then succeeds.
    await addVeth(ns, "veth-c", MAC_LATE, "peer-c");
    await agent.agent.updateInterface(request);
    expect((await linkByMac(ns, MAC_LATE))?.ifname).toBe("eth2");
  });

  it("refuses invalid requests with INVALID_ARGUMENT naming the field", async () => {
    const cases: [Parameters<typeof agent.agent.updateInterface>[0], RegExp][] = [
      [{}, /empty update interface request/],
      [{ interface: { hwAddr: "02:00:00:a0:00" } }, /interface\.hwAddr/],
      [{ interface: { hwAddr: "zz:00:00:a0:00:01" } }, /interface\.hwAddr/],
      [{ interface: { hwAddr: MAC_A, name: "../eth0" } }, /interface\.name/],
      [{ interface: { hwAddr: MAC_A, name: "a-name-that-is-too-long" } }, /interface\.name/],
      [
        { interface: { hwAddr: MAC_A, IPAddresses: [{ address: "10.77.0.300", mask: "24" }] } },
        /IPAddresses\[0\]\.address/,
      ],
      [
        { interface: { hwAddr: MAC_A, IPAddresses: [{ address: "10.77.0.3", mask: "33" }] } },
        /IPAddresses\[0\]\.mask/,
      ],
      [
        { interface: { hwAddr: MAC_A, IPAddresses: [{ address: "fd00::3", mask: "" }] } },
        /IPAddresses\[0\]\.mask/,
      ],
      [{ interface: { hwAddr: MAC_A, mtu: 100_000n } }, /interface\.mtu/],
      [{ interface: { hwAddr: MAC_A, devicePath: "02/zz" } }, /interface\.devicePath/],
    ];
    for (const [request, field] of cases) {
      const err = await rpcError(agent.agent.updateInterface(request));
      expect({ code: err.code, message: err.message }).toEqual({
        code: Code.InvalidArgument,
        message: expect.stringMatching(field),
      });
    }
    // Nothing was changed by the refused requests.
    expect((await linkByMac(ns, MAC_A))?.mtu).toBe(1400);
  });

  it("waits agent.hotplug_timeout for a NIC given by PCI path, then names the path and the setting", async () => {
    const started = Date.now();
    const err = await rpcError(
      agent.agent.updateInterface({ interface: { hwAddr: MAC_A, name: "eth0", devicePath: "1f/1e" } }),
    );
    const waited = Date.now() - started;
    // The same answer as for any hot-plugged device that does not show up in time.
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.message).toContain("timed out after 1s waiting for the network device at PCI path 1f/1e");
    expect(err.message).toContain("agent.hotplug_timeout");
    expect(waited).toBeGreaterThanOrEqual(900);
  });
});

describe("ListInterfaces", () => {
  it("lists every link with its MAC, MTU, flags and addresses", async () => {
    const { Interfaces } = await agent.agent.listInterfaces({});
    const names = Interfaces.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(["lo", "eth0", "eth1", "veth-b", "eth2"]));
    const eth0 = Interfaces.find((i) => i.name === "eth0")!;
    expect(eth0.hwAddr).toBe(MAC_A);
    expect(eth0.mtu).toBe(1400n);
    expect(eth0.rawFlags & IFF_NOARP).toBe(IFF_NOARP);
    expect(eth0.IPAddresses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ family: IPFamily.v4, address: "10.77.0.2", mask: "24" }),
        expect.objectContaining({ family: IPFamily.v6, address: "fd00:77::2", mask: "64" }),
      ]),
    );
    const lo = Interfaces.find((i) => i.name === "lo")!;
    expect(lo.IPAddresses).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: "127.0.0.1" })]),
    );
  });
});

describe("UpdateRoutes and ListRoutes", () => {
  const routes = [
    { dest: "", gateway: "10.78.0.1", device: "eth1" },
    // Its gateway is reachable only through the next route: the agent adds gateway-less routes
    // first, whatever the order of the request.
    { dest: "10.90.0.0/16", gateway: "10.89.0.254", device: "eth1", mtu: 1300 },
    { dest: "10.89.0.0/16", device: "eth1", scope: 253, source: "10.78.0.2" },
    { dest: "fd00:99::/64", gateway: "fd00:77::1", device: "eth0", family: IPFamily.v6 },
  ];

  it("adds the routes to the main table and answers with the full list", async () => {
    const { Routes } = await agent.agent.updateRoutes({ routes: { Routes: routes } });
    expect(Routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dest: "", gateway: "10.78.0.1", device: "eth1", family: IPFamily.v4 }),
        expect.objectContaining({ dest: "10.90.0.0/16", gateway: "10.89.0.254", device: "eth1", mtu: 1300 }),
        expect.objectContaining({ dest: "10.89.0.0/16", device: "eth1", scope: 253, source: "10.78.0.2" }),
        expect.objectContaining({ dest: "fd00:99::/64", gateway: "fd00:77::1", family: IPFamily.v6 }),
        // The kernel's own subnet route is part of the list too.
        expect.objectContaining({ dest: "10.77.0.0/24", device: "eth0", scope: 253 }),
      ]),
    );

    // -details prints the protocol even when it is "boot".
    const v4 = await ns.ip("-details", "-4", "route", "show", "table", "main");
    expect(v4).toMatch(/^unicast default via 10\.78\.0\.1 dev eth1 proto boot scope global/m);
    expect(v4).toMatch(/^unicast 10\.90\.0\.0\/16 via 10\.89\.0\.254 dev eth1 proto boot .*mtu 1300/m);
    expect(v4).toMatch(/^unicast 10\.89\.0\.0\/16 dev eth1 proto boot scope link src 10\.78\.0\.2/m);
    expect(await ns.ip("-details", "-6", "route", "show", "table", "main")).toMatch(
      /^unicast fd00:99::\/64 via fd00:77::1 dev eth0 proto boot/m,
    );
  });

  it("tolerates routes that already exist", async () => {
    const { Routes } = await agent.agent.updateRoutes({ routes: { Routes: routes } });
    expect(Routes.filter((r) => r.dest === "10.90.0.0/16")).toHaveLength(1);
  });

  it("ListRoutes shows the same routes", async () => {
    const { Routes } = await agent.agent.listRoutes({});
    expect(Routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dest: "", gateway: "10.78.0.1", device: "eth1" }),
        expect.objectContaining({ dest: "10.89.0.0/16", device: "eth1", scope: 253 }),
        expect.objectContaining({ dest: "fd00:99::/64", device: "eth0", family: IPFamily.v6 }),
      ]),
    );
  });

  it("refuses a missing route list, a bad prefix and an unknown device", async () => {
    const missing = await rpcError(agent.agent.updateRoutes({}));
    expect(missing.code).toBe(Code.InvalidArgument);
    const bad = await rpcError(
      agent.agent.updateRoutes({ routes: { Routes: [{ dest: "10.0.0.0/40", device: "eth0" }] } }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain("routes[0].dest");
    const mixed = await rpcError(
      agent.agent.updateRoutes({
        routes: { Routes: [{ dest: "10.0.0.0/8", gateway: "fd00::1", device: "eth0" }] },
      }),
    );
    expect(mixed.code).toBe(Code.InvalidArgument);
    const unknown = await rpcError(
      agent.agent.updateRoutes({ routes: { Routes: [{ dest: "10.91.0.0/16", device: "nope0" }] } }),
    );
    expect(unknown.code).toBe(Code.Internal);
    expect(unknown.message).toContain("Link not found (Name: nope0)");
  });

  it("reports the kernel's refusal as INTERNAL with iproute2's message", async () => {
    // No address on eth2, so this gateway is unreachable.
    const err = await rpcError(
      agent.agent.updateRoutes({
        routes: { Routes: [{ dest: "10.92.0.0/16", gateway: "192.0.2.1", device: "eth2" }] },
      }),
    );
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toMatch(/Failed to add IP v4 route .*dst: 10\.92\.0\.0\/16.*: .+/);
  });
});

describe("AddARPNeighbors", () => {
  it("adds permanent neighbour entries", async () => {
    await agent.agent.addARPNeighbors({
      neighbors: {
        ARPNeighbors: [
          { toIPAddress: { address: "10.78.0.9" }, device: "eth1", lladdr: "02:00:00:00:09:09" },
          {
            toIPAddress: { address: "fd00:77::9", family: IPFamily.v6 },
            device: "eth0",
            lladdr: "02:00:00:00:09:0a",
          },
        ],
      },
    });
    const v4 = await ns.ipJson<{ dst: string; lladdr?: string; state?: string[] }[]>(
      "neigh",
      "show",
      "dev",
      "eth1",
    );
    expect(v4).toContainEqual(
      expect.objectContaining({ dst: "10.78.0.9", lladdr: "02:00:00:00:09:09", state: ["PERMANENT"] }),
    );
    expect(await ns.ip("-6", "neigh", "show", "dev", "eth0")).toContain(
      "fd00:77::9 lladdr 02:00:00:00:09:0a PERMANENT",
    );
  });

  it("refuses a missing list, a bad lladdr and an unknown device", async () => {
    expect((await rpcError(agent.agent.addARPNeighbors({}))).code).toBe(Code.InvalidArgument);
    const bad = await rpcError(
      agent.agent.addARPNeighbors({
        neighbors: {
          ARPNeighbors: [{ toIPAddress: { address: "10.78.0.10" }, device: "eth1", lladdr: "nope" }],
        },
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain("neighbors[0].lladdr");
    const unknown = await rpcError(
      agent.agent.addARPNeighbors({
        neighbors: { ARPNeighbors: [{ toIPAddress: { address: "10.78.0.10" }, device: "nope0" }] },
      }),
    );
    expect(unknown.code).toBe(Code.Internal);
    expect(unknown.message).toContain("Link not found (Name: nope0)");
  });
});

describe("SetIPTables and GetIPTables", () => {
  const rules = (family: 4 | 6) => {
    const src = family === 4 ? "10.77.0.50/32" : "fd00:77::50/128";
    return [
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":FORWARD DROP [0:0]",
      ":OUTPUT ACCEPT [0:0]",
      ":KATA-TEST - [0:0]",
      `-A INPUT -s ${src} -j KATA-TEST`,
      "-A KATA-TEST -p tcp -m tcp --dport 8080 -j DROP",
      "COMMIT",
      "",
    ].join("\n");
  };

  for (const family of [4, 6] as const) {
    const isIpv6 = family === 6;
    const save = isIpv6 ? "ip6tables-save" : "iptables-save";

    it(`IPv${family}: loads a ruleset and reads it back`, async () => {
      await agent.agent.setIPTables({ isIpv6, data: new TextEncoder().encode(rules(family)) });
      const got = new TextDecoder().decode((await agent.agent.getIPTables({ isIpv6 })).data);
      const src = family === 4 ? "10.77.0.50/32" : "fd00:77::50/128";
      expect(got).toContain(":FORWARD DROP [0:0]");
      expect(got).toContain(`-A INPUT -s ${src} -j KATA-TEST`);
      expect(got).toContain("-A KATA-TEST -p tcp -m tcp --dport 8080 -j DROP");
      // The namespace's firewall really holds it (whichever backend `iptables` is here).
      const direct = await ns.exec(save, []);
      expect(direct.stdout).toContain(`-A INPUT -s ${src} -j KATA-TEST`);
    });

    it(`IPv${family}: a broken ruleset is INTERNAL with iptables-restore's message, and changes nothing`, async () => {
      const err = await rpcError(
        agent.agent.setIPTables({
          isIpv6,
          data: new TextEncoder().encode("*filter\n-A NOCHAIN -j DROP\nCOMMIT\n"),
        }),
      );
      expect(err.code).toBe(Code.Internal);
      expect(err.message).toMatch(/restore failed: .*line \d+ failed|restore failed: .*NOCHAIN/s);
      const after = new TextDecoder().decode((await agent.agent.getIPTables({ isIpv6 })).data);
      expect(after).toContain("-A KATA-TEST -p tcp -m tcp --dport 8080 -j DROP");
    });
  }
});
