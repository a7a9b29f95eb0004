// A throw-away network namespace for one test file, and `ip` inside it. Nothing here touches
// the host's own links, routes or firewall.
import { randomBytes } from "node:crypto";
import { execa } from "execa";

export interface Netns {
  name: string;
  /** Runs `ip -n <ns> ...` and returns stdout; throws with stderr when it fails. */
  ip(...args: string[]): Promise<string>;
  /** Runs `ip -n <ns> -json ...` and parses the output. */
  ipJson<T = Record<string, unknown>[]>(...args: string[]): Promise<T>;
  /** Runs a command inside the namespace (`ip netns exec`). */
  exec(
    file: string,
    args: string[],
    input?: string,
  ): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }>;
  delete(): Promise<void>;
}

export async function createNetns(prefix = "kt-net"): Promise<Netns> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await execa("ip", ["netns", "add", name]);
  const ip = async (...args: string[]) => (await execa("ip", ["-n", name, ...args])).stdout;
  const ns: Netns = {
    name,
    ip,
    ipJson: async <T>(...args: string[]) => JSON.parse((await ip("-json", ...args)) || "[]") as T,
    exec: async (file, args, input) => {
      const r = await execa("ip", ["netns", "exec", name, file, ...args], {
        reject: false,
        input: input ?? "",
      });
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    },
    delete: async () => {
      await execa("ip", ["netns", "del", name], { reject: false });
    },
  };
  await ip("link", "set", "lo", "up");
  return ns;
}

/** A veth pair inside `ns`: `name` (with `mac`) and `peer`, the peer up. */
export async function addVeth(ns: Netns, name: string, mac: string, peer: string): Promise<void> {
  await ns.ip("link", "add", name, "address", mac, "type", "veth", "peer", "name", peer);
  await ns.ip("link", "set", peer, "up");
}

export interface JsonLink {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** The link with this MAC, as `ip -json addr show` prints it. */
export async function linkByMac(ns: Netns, mac: string): Promise<JsonLink | undefined> {
  const links = await ns.ipJson<JsonLink[]>("addr", "show");
  return links.find((l) => l.address === mac);
}
