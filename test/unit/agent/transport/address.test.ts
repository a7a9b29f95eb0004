import { describe, expect, it } from "vitest";
import { AddressError, formatAddress, parseAddress } from "../../../../agent/src/transport/address.js";

describe("agent addresses", () => {
  it.each([
    ["vsock://-1:1024", { scheme: "vsock", cid: 0xffffffff, port: 1024 }],
    ["vsock://3:1024", { scheme: "vsock", cid: 3, port: 1024 }],
    ["unix:///run/kata/agent.sock", { scheme: "unix", path: "/run/kata/agent.sock", abstract: false }],
    ["unix://@/tmp/kata-agent.socket", { scheme: "unix", path: "/tmp/kata-agent.socket", abstract: true }],
    ["tcp://127.0.0.1:5000", { scheme: "tcp", host: "127.0.0.1", port: 5000 }],
    ["tcp://[::1]:5000", { scheme: "tcp", host: "::1", port: 5000 }],
    ["serial://agent.channel.0", { scheme: "serial", name: "agent.channel.0" }],
    ["hvsock:///run/vc/vm/clh.sock:1024", { scheme: "hvsock", path: "/run/vc/vm/clh.sock", port: 1024 }],
  ])("parses %s and formats it back", (text, expected) => {
    const address = parseAddress(text);
    expect(address).toEqual(expected);
    expect(formatAddress(address)).toBe(text);
  });

  it.each([
    ["vsock://1024", /missing ':<port>'/],
    ["vsock://x:1024", /CID 'x' is not a number/],
    ["vsock://3:99999999999", /port 99999999999 is out of range/],
    ["tcp://127.0.0.1:70000", /above 65535/],
    ["unix://", /socket path is empty/],
    ["http://localhost:1", /unknown scheme 'http:\/\/'/],
    ["/tmp/agent.sock", /is not an address/],
  ])("rejects %s clearly", (text, message) => {
    expect(() => parseAddress(text)).toThrow(AddressError);
    expect(() => parseAddress(text)).toThrow(message);
  });

  it("limits schemes where only some make sense", () => {
    expect(() => parseAddress("serial://p", ["vsock", "unix", "tcp", "hvsock"])).toThrow(
      /serial:\/\/ is not usable here/,
    );
  });
});
