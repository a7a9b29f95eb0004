import { describe, expect, it } from "vitest";
import { linkFlagBits } from "../../../../agent/src/network/interfaces.js";

describe("linkFlagBits", () => {
  it("maps iproute2's flag names to IFF_* bits", () => {
    expect(linkFlagBits(["BROADCAST", "MULTICAST", "NOARP", "UP", "LOWER_UP"])).toBe(
      0x2 | 0x1000 | 0x80 | 0x1 | 0x10000,
    );
    expect(linkFlagBits(["LOOPBACK", "UP"])).toBe(0x9);
  });

  it("ignores names that are not IFF_* flags (M-DOWN is iproute2's own)", () => {
    expect(linkFlagBits(["M-DOWN", "BROADCAST"])).toBe(0x2);
  });
});
