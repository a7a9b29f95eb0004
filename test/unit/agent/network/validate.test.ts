import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ARPNeighborSchema,
  type Interface,
  InterfaceSchema,
  IPFamily,
  RouteSchema,
} from "../../../../agent/gen/types_pb.js";
import {
  checkInterface,
  checkIp,
  checkLinkName,
  checkMac,
  checkNeighbour,
  checkPrefix,
  checkPrefixLength,
  checkRoute,
  checkRoutes,
  NUD_PERMANENT,
} from "../../../../agent/src/network/validate.js";

/** Expects `fn` to throw invalid input whose message starts with `field`. */
function refuses(fn: () => unknown, field: string) {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ kind: "invalid-input" });
    expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
    return;
  }
  throw new Error(`accepted; expected a refusal naming ${field}`);
}

describe("checkMac", () => {
  it("accepts six octets and normalises them", () => {
    expect(checkMac("02:42:AC:11:00:02", "f")).toBe("02:42:ac:11:00:02");
    expect(checkMac("2:42:ac:11:0:2", "f")).toBe("02:42:ac:11:00:02");
  });
  it.each([
    "",
    "02:42:ac:11:00",
    "02:42:ac:11:00:02:03",
    "02-42-ac-11-00-02",
    "02:42:ac:11:00:0g",
    "002:42:ac:11:00:02",
  ])("refuses %j", (mac) => refuses(() => checkMac(mac, "interface.hwAddr"), "interface.hwAddr"));
});

describe("checkLinkName", () => {
  it.each(["eth0", "veth-a", "a", "fifteen_chars_x", "br.100", "ens3@x"])("accepts %j", (name) => {
    expect(checkLinkName(name, "f")).toBe(name);
  });
  it.each([
    "",
    ".",
    "..",
    "../eth0",
    "eth/0",
    "eth:0",
    "eth 0",
    "eth\t0",
    "sixteen_chars_xx",
    "eth\n",
    "ethé",
  ])("refuses %j", (name) => refuses(() => checkLinkName(name, "interface.name"), "interface.name"));
});

describe("addresses and prefixes", () => {
  it("tells the family of an address", () => {
    expect(checkIp("10.0.0.1", "f")).toBe(4);
    expect(checkIp("fd00::1", "f")).toBe(6);
    expect(checkIp("::ffff:10.0.0.1", "f")).toBe(6);
  });
  it.each(["", "10.0.0", "10.0.0.256", "10.0.0.1/24", "fe80::1%eth0", "fd00:::1", "localhost", " 10.0.0.1"])(
    "refuses the address %j",
    (a) => refuses(() => checkIp(a, "x.address"), "x.address"),
  );
  it("checks prefix lengths against the family", () => {
    expect(checkPrefixLength("0", 4, "m")).toBe(0);
    expect(checkPrefixLength("32", 4, "m")).toBe(32);
    expect(checkPrefixLength("128", 6, "m")).toBe(128);
    for (const [text, family] of [
      ["33", 4],
      ["129", 6],
      ["", 4],
      ["-1", 4],
      ["24.0", 4],
      ["0x18", 4],
      [" 24", 4],
    ] as const)
      refuses(() => checkPrefixLength(text, family, "x.mask"), "x.mask");
  });
  it("reads CIDR prefixes and bare addresses as host prefixes", () => {
    expect(checkPrefix("10.0.0.0/8", "d")).toEqual({ family: 4, address: "10.0.0.0", length: 8 });
    expect(checkPrefix("10.1.2.3", "d")).toEqual({ family: 4, address: "10.1.2.3", length: 32 });
    expect(checkPrefix("fd00::/64", "d")).toEqual({ family: 6, address: "fd00::", length: 64 });
    expect(checkPrefix("fd00::1", "d")).toEqual({ family: 6, address: "fd00::1", length: 128 });
    refuses(() => checkPrefix("10.0.0.0/", "d"), "d");
    refuses(() => checkPrefix("10.0.0.0/8/8", "d"), "d");
  });
});

describe("checkInterface", () => {
  const iface = (init: Parameters<typeof create<typeof InterfaceSchema>>[1]): Interface =>
    create(InterfaceSchema, init);

  it("turns the request into a spec", () => {
    const spec = checkInterface(
      iface({
        hwAddr: "02:00:00:00:00:0A",
        name: "eth0",
        mtu: 1400n,
        rawFlags: 0x80 | 0x1,
        devicePath: "02/00",
        IPAddresses: [
          { address: "10.0.0.2", mask: "24" },
          // The family field is not trusted: the address says what it is.
          { family: IPFamily.v4, address: "fd00::2", mask: "64" },
        ],
      }),
    );
    expect(spec).toEqual({
      mac: "02:00:00:00:00:0a",
      name: "eth0",
      mtu: 1400,
      noarp: true,
      devicePath: {
        text: "02/00",
        rootComplex: "00",
        slots: [
          { slot: 2, fn: 0 },
          { slot: 0, fn: 0 },
        ],
      },
      addresses: [
        { family: 4, address: "10.0.0.2", prefixLength: 24, cidr: "10.0.0.2/24" },
        { family: 6, address: "fd00::2", prefixLength: 64, cidr: "fd00::2/64" },
      ],
    });
  });

  it("keeps name and MTU when they are not given, and ARP on without IFF_NOARP", () => {
    const spec = checkInterface(iface({ hwAddr: "02:00:00:00:00:0a" }));
    expect(spec).toMatchObject({ name: "", mtu: 0, noarp: false, devicePath: undefined, addresses: [] });
  });

  it("finds the link by name when there is no MAC", () => {
    expect(checkInterface(iface({ name: "eth0" })).mac).toBe("");
    refuses(() => checkInterface(iface({})), "interface.hwAddr");
  });

  it("names the offending field", () => {
    refuses(() => checkInterface(iface({ hwAddr: "bad" })), "interface.hwAddr");
    refuses(() => checkInterface(iface({ hwAddr: "02:00:00:00:00:0a", name: "a/b" })), "interface.name");
    refuses(() => checkInterface(iface({ hwAddr: "02:00:00:00:00:0a", mtu: 1n << 40n })), "interface.mtu");
    refuses(
      () =>
        checkInterface(
          iface({ name: "eth0", IPAddresses: [{ address: "10.0.0.2", mask: "24" }, { address: "x" }] }),
        ),
      "interface.IPAddresses[1].address",
    );
    refuses(
      () => checkInterface(iface({ name: "eth0", IPAddresses: [{ address: "10.0.0.2", mask: "40" }] })),
      "interface.IPAddresses[0].mask",
    );
    refuses(
      () => checkInterface(iface({ name: "eth0", devicePath: "/sys/bus/pci" })),
      "interface.devicePath",
    );
  });
});

describe("checkRoute(s)", () => {
  const route = (init: Parameters<typeof create<typeof RouteSchema>>[1]) => create(RouteSchema, init);

  it("infers the family from the addresses, and uses the family field only when there are none", () => {
    expect(checkRoute(route({ dest: "fd00::/64", device: "eth0" }), "r").family).toBe(6);
    expect(checkRoute(route({ gateway: "10.0.0.1", device: "eth0", family: IPFamily.v6 }), "r").family).toBe(
      4,
    );
    expect(checkRoute(route({ device: "eth0", family: IPFamily.v6 }), "r").family).toBe(6);
    expect(checkRoute(route({ device: "eth0" }), "r").family).toBe(4);
  });

  it("maps every field", () => {
    expect(
      checkRoute(
        route({
          dest: "10.1.2.3",
          gateway: "10.0.0.1",
          device: "eth0",
          source: "10.0.0.2",
          scope: 253,
          mtu: 1300,
          flags: 4,
        }),
        "r",
      ),
    ).toEqual({
      family: 4,
      dest: "10.1.2.3/32",
      gateway: "10.0.0.1",
      device: "eth0",
      prefSource: "10.0.0.2",
      fromPrefix: "",
      scope: 253,
      mtu: 1300,
      onlink: true,
    });
  });

  it("reads a source with a prefix as a source-specific route, a bare one as the preferred source", () => {
    expect(
      checkRoute(route({ dest: "2001:db8::/64", source: "fd00::/64", device: "eth0" }), "r"),
    ).toMatchObject({
      fromPrefix: "fd00::/64",
      prefSource: "",
    });
    expect(checkRoute(route({ source: "10.0.0.2/0", device: "eth0" }), "r")).toMatchObject({
      fromPrefix: "",
      prefSource: "10.0.0.2",
    });
  });

  it("puts gateway-less routes first and keeps the order otherwise", () => {
    const specs = checkRoutes([
      route({ gateway: "10.0.0.1", device: "a" }),
      route({ dest: "10.1.0.0/16", device: "b" }),
      route({ dest: "10.2.0.0/16", gateway: "10.1.0.1", device: "c" }),
      route({ dest: "10.3.0.0/16", device: "d" }),
    ]);
    expect(specs.map((s) => s.device)).toEqual(["b", "d", "a", "c"]);
  });

  it("names the offending route and field", () => {
    refuses(
      () => checkRoutes([route({ device: "eth0" }), route({ dest: "10.0.0.0/33", device: "eth0" })]),
      "routes[1].dest",
    );
    refuses(() => checkRoutes([route({ gateway: "10.0.0", device: "eth0" })]), "routes[0].gateway");
    refuses(() => checkRoutes([route({ source: "x", device: "eth0" })]), "routes[0].source");
    refuses(() => checkRoutes([route({ dest: "10.0.0.0/8" })]), "routes[0].device");
    refuses(() => checkRoutes([route({ device: "eth0", scope: 256 })]), "routes[0].scope");
    refuses(
      () => checkRoutes([route({ dest: "10.0.0.0/8", gateway: "fd00::1", device: "eth0" })]),
      "routes[0]",
    );
  });
});

describe("checkNeighbour", () => {
  const neigh = (init: Parameters<typeof create<typeof ARPNeighborSchema>>[1]) =>
    create(ARPNeighborSchema, init);

  it("defaults to a permanent entry and maps the flags iproute2 can set", () => {
    expect(
      checkNeighbour(
        neigh({ toIPAddress: { address: "10.0.0.9" }, device: "eth0", lladdr: "02:00:00:00:00:09" }),
        "n",
      ),
    ).toEqual({
      family: 4,
      address: "10.0.0.9",
      device: "eth0",
      lladdr: "02:00:00:00:00:09",
      state: NUD_PERMANENT,
      router: false,
      proxy: false,
      externLearn: false,
      use: false,
    });
    expect(
      checkNeighbour(
        neigh({
          toIPAddress: { address: "fd00::9" },
          device: "eth0",
          state: 0x02,
          flags: 0x80 | 0x08 | 0x10 | 0x01,
        }),
        "n",
      ),
    ).toMatchObject({
      family: 6,
      lladdr: "",
      state: 0x02,
      router: true,
      proxy: true,
      externLearn: true,
      use: true,
    });
  });

  it("names the offending field", () => {
    refuses(() => checkNeighbour(neigh({ device: "eth0" }), "neighbors[0]"), "neighbors[0].toIPAddress");
    refuses(
      () => checkNeighbour(neigh({ toIPAddress: { address: "10.0.0.x" }, device: "eth0" }), "n"),
      "n.toIPAddress.address",
    );
    refuses(
      () => checkNeighbour(neigh({ toIPAddress: { address: "10.0.0.9" }, device: "" }), "n"),
      "n.device",
    );
    refuses(
      () =>
        checkNeighbour(neigh({ toIPAddress: { address: "10.0.0.9" }, device: "eth0", lladdr: "02:00" }), "n"),
      "n.lladdr",
    );
    refuses(
      () =>
        checkNeighbour(neigh({ toIPAddress: { address: "10.0.0.9" }, device: "eth0", state: 0x100 }), "n"),
      "n.state",
    );
    refuses(
      () => checkNeighbour(neigh({ toIPAddress: { address: "10.0.0.9" }, device: "eth0", flags: -1 }), "n"),
      "n.flags",
    );
  });
});
