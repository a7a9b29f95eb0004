// Which vsock peers a listener admits: the host and other VMs always; this machine's own
// processes (CID 1, or the guest's own CID) only with agent.allow_vsock_loopback. A real loopback
// connection needs the guest kernel (this host has no vsock loopback transport): the boot
// scenario runs test/peers/vsock-probe in a container for that.
import { describe, expect, it } from "vitest";
import {
  isLocalPeer,
  LoopbackGuard,
  VMADDR_CID_LOCAL,
} from "../../../../agent/src/transport/vsock-loopback.js";

const HOST = 2;
const OWN = 3;

describe("isLocalPeer", () => {
  it.each([
    [VMADDR_CID_LOCAL, OWN, true],
    [OWN, OWN, true],
    [HOST, OWN, false],
    [7, OWN, false],
    [VMADDR_CID_LOCAL, undefined, true],
    [OWN, undefined, false],
  ])("peer CID %s with local CID %s: %s", (peer, local, expected) => {
    expect(isLocalPeer(peer, local)).toBe(expected);
  });
});

describe("LoopbackGuard", () => {
  function guard(allow: boolean) {
    const warnings: Record<string, unknown>[] = [];
    let now = 1_000_000;
    const g = new LoopbackGuard({
      allow,
      localCid: OWN,
      address: "vsock://-1:1024",
      warn: (message, fields) => warnings.push({ message, ...fields }),
      intervalMs: 60_000,
      now: () => now,
    });
    return { g, warnings, advance: (ms: number) => (now += ms) };
  }

  it("admits the host and refuses this machine's own processes by default", () => {
    const { g, warnings } = guard(false);
    expect(g.admit({ cid: HOST, port: 50_000 })).toBe(true);
    expect(g.admit({ cid: VMADDR_CID_LOCAL, port: 50_001 })).toBe(false);
    expect(g.admit({ cid: OWN, port: 50_002 })).toBe(false);
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/refused .*\(vsock loopback\).*agent\.allow_vsock_loopback/),
        address: "vsock://-1:1024",
        peer: "1:50001",
        refused: 1,
      }),
    ]);
  });

  it("admits everyone when loopback is allowed, without a word", () => {
    const { g, warnings } = guard(true);
    expect(g.admit({ cid: VMADDR_CID_LOCAL, port: 1 })).toBe(true);
    expect(g.admit({ cid: OWN, port: 1 })).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("logs a flood of refusals once a minute, with how many there were", () => {
    const { g, warnings, advance } = guard(false);
    for (let i = 0; i < 500; i++) {
      expect(g.admit({ cid: VMADDR_CID_LOCAL, port: 40_000 + i })).toBe(false);
      advance(100); // 500 refusals over 50 s: one line
    }
    expect(warnings).toHaveLength(1);
    advance(10_000);
    g.admit({ cid: VMADDR_CID_LOCAL, port: 1 });
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatchObject({ refused: 500 }); // 499 held back since the first, and this one
  });
});
