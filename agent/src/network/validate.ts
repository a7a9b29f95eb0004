// Checks the network RPCs' messages before anything touches the kernel, and turns them into the
// plain specs the tool modules take. Every refusal is INVALID_ARGUMENT and names the field.
import { isIPv4, isIPv6 } from "node:net";
import type { ARPNeighbor, Interface, Route } from "../../gen/types_pb.js";
import { IPFamily } from "../../gen/types_pb.js";
import { InvalidInputError } from "../core/domain-error.js";
import { type PciPath, parsePciPath } from "../devices/index.js";
import type { NeighbourSpec, RouteSpec } from "../tools/ip.js";

/** <linux/if.h> */
export const IFF_NOARP = 0x80;
/** <linux/rtnetlink.h>: the gateway is reachable on the device even if no prefix says so. */
export const RTNH_F_ONLINK = 0x4;
/** <linux/neighbour.h> */
export const NUD_PERMANENT = 0x80;
export const NTF_USE = 0x01;
export const NTF_PROXY = 0x08;
export const NTF_EXT_LEARNED = 0x10;
export const NTF_ROUTER = 0x80;
/** IFNAMSIZ - 1 */
export const MAX_LINK_NAME = 15;
const MAX_MTU = 0x7fffffff;

export function invalid(field: string, problem: string): InvalidInputError {
  return new InvalidInputError(`${field}: ${problem}`);
}

export interface AddressSpec {
  family: 4 | 6;
  address: string;
  prefixLength: number;
  /** "10.0.0.2/24" */
  cidr: string;
}

export interface InterfaceSpec {
  /** Lower-case MAC, or "" to find the link by name. */
  mac: string;
  /** Wanted name, or "" to keep the current one. */
  name: string;
  /** 0 keeps the current MTU. */
  mtu: number;
  addresses: AddressSpec[];
  noarp: boolean;
  devicePath: PciPath | undefined;
}

/** The rules of the kernel's dev_valid_name(), so that `ip` never sees a path or an option. */
export function checkLinkName(name: string, field: string): string {
  if (name === "") throw invalid(field, "a link name is required");
  if (name.length > MAX_LINK_NAME)
    throw invalid(field, `link name ${JSON.stringify(name)} is longer than ${MAX_LINK_NAME} characters`);
  if (name === "." || name === ".." || /[/:\s]/.test(name) || /[^\x21-\x7e]/.test(name))
    throw invalid(
      field,
      `${JSON.stringify(name)} is not a valid link name (no '/', ':', spaces or '.'/'..')`,
    );
  return name;
}

/** "aa:bb:cc:dd:ee:ff" (one or two hex digits per octet), returned lower-case and zero-padded. */
export function checkMac(mac: string, field: string): string {
  const octets = mac.split(":");
  if (octets.length !== 6 || octets.some((o) => !/^[0-9a-fA-F]{1,2}$/.test(o)))
    throw invalid(field, `${JSON.stringify(mac)} is not a MAC address like 02:42:ac:11:00:02`);
  return octets.map((o) => o.toLowerCase().padStart(2, "0")).join(":");
}

/** The family of an IP address literal (no zone, no prefix), or an error naming the field. */
export function checkIp(address: string, field: string): 4 | 6 {
  if (isIPv4(address)) return 4;
  if (isIPv6(address) && !address.includes("%")) return 6;
  throw invalid(field, `${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
}

export function checkPrefixLength(text: string, family: 4 | 6, field: string): number {
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(text) || Number(text) > max)
    throw invalid(field, `${JSON.stringify(text)} is not a prefix length between 0 and ${max}`);
  return Number(text);
}

/** "10.0.0.0/8" or a bare address (a host prefix). */
export function checkPrefix(text: string, field: string): { family: 4 | 6; address: string; length: number } {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = checkIp(address, field);
  const length =
    slash < 0 ? (family === 4 ? 32 : 128) : checkPrefixLength(text.slice(slash + 1), family, field);
  return { family, address, length };
}

export function checkInterface(iface: Interface): InterfaceSpec {
  const mac = iface.hwAddr === "" ? "" : checkMac(iface.hwAddr, "interface.hwAddr");
  const name = iface.name === "" ? "" : checkLinkName(iface.name, "interface.name");
  if (mac === "" && name === "")
    throw invalid(
      "interface.hwAddr",
      "the MAC address (or at least interface.name) is required to find the link",
    );
  if (iface.mtu > BigInt(MAX_MTU)) throw invalid("interface.mtu", `${iface.mtu} is not a valid MTU`);
  const addresses = iface.IPAddresses.map((ip, i): AddressSpec => {
    const family = checkIp(ip.address, `interface.IPAddresses[${i}].address`);
    const prefixLength = checkPrefixLength(ip.mask, family, `interface.IPAddresses[${i}].mask`);
    return { family, address: ip.address, prefixLength, cidr: `${ip.address}/${prefixLength}` };
  });
  return {
    mac,
    name,
    mtu: Number(iface.mtu),
    addresses,
    noarp: (iface.rawFlags & IFF_NOARP) !== 0,
    devicePath: iface.devicePath === "" ? undefined : checkPciPath(iface.devicePath, "interface.devicePath"),
  };
}

export function checkRoute(route: Route, field: string): RouteSpec {
  const families = new Set<4 | 6>();
  let dest = "";
  if (route.dest !== "") {
    const p = checkPrefix(route.dest, `${field}.dest`);
    families.add(p.family);
    dest = `${p.address}/${p.length}`;
  }
  if (route.gateway !== "") families.add(checkIp(route.gateway, `${field}.gateway`));
  let prefSource = "";
  let fromPrefix = "";
  if (route.source !== "") {
    const p = checkPrefix(route.source, `${field}.source`);
    families.add(p.family);
    // As upstream: an explicit non-zero prefix is a source-specific route ("from"); a bare
    // address (or /0) is the preferred source address ("src").
    if (route.source.includes("/") && p.length > 0) fromPrefix = `${p.address}/${p.length}`;
    else prefSource = p.address;
  }
  if (families.size > 1) throw invalid(field, "dest, gateway and source mix IPv4 and IPv6");
  const family = [...families][0] ?? (route.family === IPFamily.v6 ? 6 : 4);
  if (route.scope > 255) throw invalid(`${field}.scope`, `${route.scope} is not a route scope (0-255)`);
  return {
    family,
    dest,
    gateway: route.gateway,
    device: checkLinkName(route.device, `${field}.device`),
    prefSource,
    fromPrefix,
    scope: route.scope,
    mtu: route.mtu,
    onlink: (route.flags & RTNH_F_ONLINK) !== 0,
  };
}

/** Routes without a gateway come first, so that the gateways they make reachable exist. */
export function checkRoutes(routes: Route[]): RouteSpec[] {
  const specs = routes.map((r, i) => checkRoute(r, `routes[${i}]`));
  return [...specs.filter((r) => r.gateway === ""), ...specs.filter((r) => r.gateway !== "")];
}

export function checkNeighbour(n: ARPNeighbor, field: string): NeighbourSpec {
  const to = n.toIPAddress;
  if (!to || to.address === "")
    throw invalid(`${field}.toIPAddress`, "the neighbour's IP address is required");
  const family = checkIp(to.address, `${field}.toIPAddress.address`);
  if (n.state < 0 || n.state > 0xff) throw invalid(`${field}.state`, `${n.state} is not a NUD state`);
  if (n.flags < 0 || n.flags > 0xff)
    throw invalid(`${field}.flags`, `${n.flags} is not a set of NTF_* flags`);
  return {
    family,
    address: to.address,
    device: checkLinkName(n.device, `${field}.device`),
    lladdr: n.lladdr === "" ? "" : checkMac(n.lladdr, `${field}.lladdr`),
    state: n.state === 0 ? NUD_PERMANENT : n.state,
    router: (n.flags & NTF_ROUTER) !== 0,
    proxy: (n.flags & NTF_PROXY) !== 0,
    externLearn: (n.flags & NTF_EXT_LEARNED) !== 0,
    use: (n.flags & NTF_USE) !== 0,
  };
}

export function checkNeighbours(list: ARPNeighbor[]): NeighbourSpec[] {
  return list.map((n, i) => checkNeighbour(n, `neighbors[${i}]`));
}

function checkPciPath(text: string, field: string): PciPath {
  try {
    return parsePciPath(text);
  } catch (err) {
    throw invalid(field, (err as Error).message);
  }
}
