// Parsing real `ip -json` output (captured from iproute2 6.1 on veth pairs in a namespace).
import { describe, expect, it } from "vitest";
import {
  IpOutputError,
  parseLinkAddrs,
  parseLinks,
  parseRoutes,
} from "../../../../agent/src/tools/ip-json.js";

const LINK_DETAILS = JSON.stringify([
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP", "LOWER_UP"],
    mtu: 65536,
    link_type: "loopback",
    address: "00:00:00:00:00:00",
    min_mtu: 0,
    max_mtu: 0,
  },
  {
    ifindex: 3,
    link: "vb",
    ifname: "va",
    flags: ["BROADCAST", "MULTICAST", "M-DOWN"],
    mtu: 1500,
    qdisc: "noop",
    operstate: "DOWN",
    link_type: "ether",
    address: "02:00:00:00:00:01",
    broadcast: "ff:ff:ff:ff:ff:ff",
    min_mtu: 68,
    max_mtu: 65535,
    linkinfo: { info_kind: "veth" },
    num_tx_queues: 2,
  },
]);

const ADDRS = JSON.stringify([
  {
    ifindex: 3,
    link: "vb",
    ifname: "va",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu: 1500,
    address: "02:00:00:00:00:01",
    addr_info: [
      { family: "inet", local: "10.20.0.2", prefixlen: 24, scope: "global", label: "va" },
      { family: "inet6", local: "fd00:20::2", prefixlen: 64, scope: "global", nodad: true },
      { family: "inet6", local: "fe80::ff:fe00:1", prefixlen: 64, scope: "link", tentative: true },
    ],
  },
  { ifindex: 4, ifname: "wg0", flags: ["POINTOPOINT", "NOARP"], mtu: 1420, addr_info: [] },
]);

const ROUTES4 = JSON.stringify([
  { dst: "default", gateway: "10.20.0.1", dev: "va", prefsrc: "10.20.0.2", flags: [] },
  { dst: "10.20.0.0/24", dev: "va", protocol: "2", scope: "253", prefsrc: "10.20.0.2", flags: [] },
  { dst: "10.30.0.0/16", gateway: "10.20.0.1", dev: "va", flags: ["onlink"], metrics: [{ mtu: 1400 }] },
  { dst: "10.40.0.7", dev: "va", scope: "253", flags: [] },
  { type: "blackhole", dst: "10.50.0.0/16", flags: [] },
]);

const ROUTES6 = JSON.stringify([
  { dst: "2001:db8::/64", from: "fd00:30::/64", dev: "vx", metric: 1024, flags: [], pref: "medium" },
  { dst: "fd00:30::1", dev: "vx", protocol: "2", metric: 256, flags: ["linkdown"], pref: "medium" },
]);

describe("parseLinks", () => {
  it("reads index, name, MAC, MTU range, flags and kind", () => {
    expect(parseLinks(LINK_DETAILS)).toEqual([
      {
        index: 1,
        name: "lo",
        address: "00:00:00:00:00:00",
        mtu: 65536,
        minMtu: 0,
        maxMtu: 0,
        flags: ["LOOPBACK", "UP", "LOWER_UP"],
        kind: undefined,
      },
      {
        index: 3,
        name: "va",
        address: "02:00:00:00:00:01",
        mtu: 1500,
        minMtu: 68,
        maxMtu: 65535,
        flags: ["BROADCAST", "MULTICAST", "M-DOWN"],
        kind: "veth",
      },
    ]);
  });

  it("lower-cases MACs and tolerates links without one", () => {
    const [link] = parseLinks('[{"ifindex":9,"ifname":"x","address":"02:AB:00:00:00:01","flags":[]}]');
    expect(link?.address).toBe("02:ab:00:00:00:01");
    expect(parseLinks('[{"ifindex":9,"ifname":"tun0","flags":[]}]')[0]?.address).toBe("");
  });

  it("reads no output as no links", () => {
    expect(parseLinks("")).toEqual([]);
  });

  it.each([
    ["not JSON", "{"],
    ["not an array", '{"ifindex":1}'],
    ["no name", '[{"ifindex":1}]'],
    ["index as text", '[{"ifindex":"1","ifname":"lo"}]'],
    ["flags not strings", '[{"ifindex":1,"ifname":"lo","flags":[1]}]'],
  ])("fails loudly on %s", (_what, text) => {
    expect(() => parseLinks(text)).toThrow(IpOutputError);
  });
});

describe("parseLinkAddrs", () => {
  it("reads each link's IPv4 and IPv6 addresses with prefix lengths", () => {
    const [va, wg] = parseLinkAddrs(ADDRS);
    expect(va?.name).toBe("va");
    expect(va?.addresses).toEqual([
      { family: 4, address: "10.20.0.2", prefixLength: 24 },
      { family: 6, address: "fd00:20::2", prefixLength: 64 },
      { family: 6, address: "fe80::ff:fe00:1", prefixLength: 64 },
    ]);
    expect(wg).toMatchObject({ name: "wg0", address: "", mtu: 1420, addresses: [] });
  });

  it("skips address families that carry no IP address", () => {
    const text = '[{"ifindex":2,"ifname":"x","flags":[],"addr_info":[{"family":"mpls","prefixlen":0}]}]';
    expect(parseLinkAddrs(text)[0]?.addresses).toEqual([]);
  });

  it("fails loudly on a malformed address", () => {
    expect(() =>
      parseLinkAddrs('[{"ifindex":2,"ifname":"x","addr_info":[{"family":"inet","prefixlen":24}]}]'),
    ).toThrow(/addr_info\[0\]\.local/);
  });
});

describe("parseRoutes", () => {
  it("reads IPv4 routes: default, kernel subnet routes, onlink, MTU, host routes, other types", () => {
    expect(parseRoutes(ROUTES4, 4)).toEqual([
      {
        family: 4,
        dest: "",
        gateway: "10.20.0.1",
        device: "va",
        prefSource: "10.20.0.2",
        fromPrefix: "",
        type: "",
        protocol: 3,
        scope: 0,
        flags: [],
        mtu: 0,
      },
      expect.objectContaining({ dest: "10.20.0.0/24", protocol: 2, scope: 253, prefSource: "10.20.0.2" }),
      expect.objectContaining({ dest: "10.30.0.0/16", gateway: "10.20.0.1", flags: ["onlink"], mtu: 1400 }),
      expect.objectContaining({ dest: "10.40.0.7/32", scope: 253 }),
      expect.objectContaining({ dest: "10.50.0.0/16", type: "blackhole", device: "" }),
    ]);
  });

  it("reads IPv6 source-specific and host routes", () => {
    expect(parseRoutes(ROUTES6, 6)).toEqual([
      expect.objectContaining({ family: 6, dest: "2001:db8::/64", fromPrefix: "fd00:30::/64", device: "vx" }),
      expect.objectContaining({ family: 6, dest: "fd00:30::1/128", protocol: 2, flags: ["linkdown"] }),
    ]);
  });

  it("fails loudly on a scope that is not a number (output without -N)", () => {
    expect(() => parseRoutes('[{"dst":"10.0.0.0/8","dev":"x","scope":"link"}]', 4)).toThrow(/scope/);
  });
});
