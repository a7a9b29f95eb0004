import { describe, expect, it } from "vitest";
import { IPFamily } from "../../../../agent/gen/types_pb.js";
import { routeFlagBits, toRoute } from "../../../../agent/src/network/routes.js";
import type { IpRoute } from "../../../../agent/src/tools/ip-json.js";

const base: IpRoute = {
  family: 4,
  dest: "",
  gateway: "",
  device: "eth0",
  prefSource: "",
  fromPrefix: "",
  type: "",
  protocol: 3,
  scope: 0,
  flags: [],
  mtu: 0,
};

describe("toRoute", () => {
  it("answers the default route with an empty dest, as the runtime sends it", () => {
    expect(toRoute({ ...base, gateway: "10.0.0.1" })).toMatchObject({
      dest: "",
      gateway: "10.0.0.1",
      device: "eth0",
      family: IPFamily.v4,
    });
  });

  it("reports the preferred source, or the source prefix of a source-specific route", () => {
    expect(toRoute({ ...base, dest: "10.1.0.0/16", prefSource: "10.0.0.2", scope: 253 })).toMatchObject({
      source: "10.0.0.2",
      scope: 253,
    });
    expect(toRoute({ ...base, family: 6, dest: "2001:db8::/64", fromPrefix: "fd00::/64" })).toMatchObject({
      source: "fd00::/64",
      family: IPFamily.v6,
    });
  });

  it("carries MTU and flags as numbers", () => {
    expect(toRoute({ ...base, dest: "10.1.0.0/16", mtu: 1300, flags: ["onlink", "linkdown"] })).toMatchObject(
      {
        mtu: 1300,
        flags: 0x4 | 0x10,
      },
    );
  });
});

describe("routeFlagBits", () => {
  it("maps iproute2's flag names to RTNH_F_* bits and ignores unknown ones", () => {
    expect(routeFlagBits([])).toBe(0);
    expect(routeFlagBits(["dead", "pervasive", "onlink", "offload", "linkdown", "unresolved", "trap"])).toBe(
      0x7f,
    );
    expect(routeFlagBits(["rt_offload_failed"])).toBe(0);
  });
});
