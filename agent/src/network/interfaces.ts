// UpdateInterface and ListInterfaces. Upstream's order: find the link by MAC, take it down,
// add the addresses, rename (swapping names with a link that holds the wanted one), set MTU and
// ARP, bring it up. Addresses already on the link stay (upstream does not flush them either).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Interface, InterfaceSchema, IPFamily } from "../../gen/types_pb.js";
import type { IpLink } from "../tools/ip-json.js";
import { ensureOk } from "../tools/tool.js";
import { linkNotFound, type NetContext } from "./context.js";
import { type InterfaceSpec, invalid, MAX_LINK_NAME } from "./validate.js";

/** IFF_* bits of the flag names iproute2 prints (<linux/if.h>). */
const IFF_BITS: Record<string, number> = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
};

export function linkFlagBits(flags: readonly string[]): number {
  return flags.reduce((bits, name) => bits | (IFF_BITS[name] ?? 0), 0);
}

const isUp = (link: IpLink) => link.flags.includes("UP");

/** Configures the link and returns nothing; the RPC answers with the request's interface. */
export async function updateInterface(ctx: NetContext, spec: InterfaceSpec): Promise<void> {
  const what = "update interface";
  const { ip, signal } = ctx;
  const links = await ip.links(signal);
  const link = spec.mac ? links.find((l) => l.address === spec.mac) : links.find((l) => l.name === spec.name);
  if (!link) throw linkNotFound(what, spec.mac ? `Address: ${spec.mac}` : `Name: ${spec.name}`);
  if (spec.mtu > 0 && link.minMtu !== undefined && link.maxMtu !== undefined) {
    // A max_mtu of 0 means no upper bound (the kernel's dev_validate_mtu).
    if (spec.mtu < link.minMtu || (link.maxMtu > 0 && spec.mtu > link.maxMtu))
      throw invalid(
        "interface.mtu",
        `${spec.mtu} is outside what ${link.name} accepts (${link.minMtu}-${link.maxMtu})`,
      );
  }

  if (isUp(link))
    ensureOk(await ip.setLink(link.name, { up: false }, signal), `${what}: take ${link.name} down`);

  const ipv6 = await ipv6Enabled(ctx.procSys);
  for (const addr of spec.addresses) {
    if (addr.family === 6 && !ipv6) {
      ctx.log?.info("IPv6 is disabled in the guest; address skipped", {
        link: link.name,
        address: addr.cidr,
      });
      continue;
    }
    ensureOk(
      await ip.replaceAddress(link.name, addr.family, addr.cidr, signal),
      `${what}: Failed to add address ${addr.cidr} to ${link.name}`,
    );
  }

  // The wanted name may belong to another link: move that one to a temporary name, and give it
  // this link's old name afterwards.
  const rename = spec.name !== "" && spec.name !== link.name;
  const holder = rename ? links.find((l) => l.name === spec.name) : undefined;
  const temp = holder ? temporaryName(holder, links) : "";
  if (holder) {
    if (isUp(holder))
      ensureOk(await ip.setLink(holder.name, { up: false }, signal), `${what}: take ${holder.name} down`);
    ensureOk(
      await ip.setLink(holder.name, { name: temp }, signal),
      `${what}: Failed to rename interface ${holder.name} to ${temp}`,
    );
  }

  const result = await ip.setLink(
    link.name,
    {
      ...(rename ? { name: spec.name } : {}),
      ...(spec.mtu > 0 ? { mtu: spec.mtu } : {}),
      arp: !spec.noarp,
      up: true,
    },
    signal,
  );
  // From here on the other link must get a real name back even if the call is cancelled, so
  // these two steps do not take the call's signal.
  if (result.exitCode !== 0 && holder) {
    // Put the other link back as it was before reporting the failure.
    await ip.setLink(temp, { name: holder.name, ...(isUp(holder) ? { up: true } : {}) });
  }
  ensureOk(result, `${what}: Failure in LinkSetRequest for interface ${spec.name || link.name}`);

  if (holder) {
    ensureOk(
      await ip.setLink(temp, { name: link.name, ...(isUp(holder) ? { up: true } : {}) }),
      `${what}: Error swapping back interface name ${temp} to ${link.name}`,
    );
  }
}

/** "<name>_temp" as upstream when it fits in IFNAMSIZ and is free, else a shorter free name. */
function temporaryName(holder: IpLink, links: readonly IpLink[]): string {
  const taken = new Set(links.map((l) => l.name));
  const candidates = [
    `${holder.name}_temp`,
    `${holder.name.slice(0, MAX_LINK_NAME - 5)}_temp`,
    `kata_tmp${holder.index}`.slice(0, MAX_LINK_NAME),
  ];
  for (const c of candidates) if (c.length <= MAX_LINK_NAME && !taken.has(c)) return c;
  return `kt${holder.index}_${Date.now() % 100000}`;
}

/** As upstream: IPv6 counts as enabled when either `all` or `default` has disable_ipv6 = 0. */
async function ipv6Enabled(procSys: string): Promise<boolean> {
  const read = (which: string) =>
    readFile(join(procSys, "net/ipv6/conf", which, "disable_ipv6"), "utf8").then(
      (text) => text.trim() === "0",
      () => false,
    );
  const [all, dflt] = await Promise.all([read("all"), read("default")]);
  return all || dflt;
}

export async function listInterfaces(ctx: NetContext): Promise<Interface[]> {
  const links = await ctx.ip.linkAddrs(ctx.signal);
  return links.map((link) =>
    create(InterfaceSchema, {
      name: link.name,
      hwAddr: link.address,
      mtu: BigInt(link.mtu),
      rawFlags: linkFlagBits(link.flags),
      IPAddresses: link.addresses.map((a) => ({
        family: a.family === 6 ? IPFamily.v6 : IPFamily.v4,
        address: a.address,
        mask: String(a.prefixLength),
      })),
    }),
  );
}

/** Waits for a hot-plugged NIC when the request names its PCI path. */
export async function waitForDevice(ctx: NetContext, spec: InterfaceSpec): Promise<void> {
  if (!spec.devicePath) return;
  const name = await ctx.devices.pciNic(spec.devicePath, ctx.signal);
  ctx.log?.debug("hot-plugged NIC present", { pciPath: spec.devicePath.text, link: name });
}
