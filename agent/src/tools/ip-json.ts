// Typed views of `ip -json` output (iproute2 >= 4.13 prints JSON; `-N` prints protocol and
// scope as numbers). Every field is checked, so a changed output format fails loudly here
// instead of turning into a wrong answer.

export class IpOutputError extends Error {
  override readonly name = "IpOutputError";
}

export interface IpLink {
  index: number;
  name: string;
  /** MAC address as printed ("02:00:00:00:00:01"), lower-case; "" for links without one. */
  address: string;
  mtu: number;
  minMtu: number | undefined;
  maxMtu: number | undefined;
  /** Flag names as iproute2 prints them ("UP", "NOARP", "LOWER_UP"...). */
  flags: string[];
  /** linkinfo.info_kind with -details ("veth", "bridge"...), if any. */
  kind: string | undefined;
}

export interface IpAddr {
  family: 4 | 6;
  address: string;
  prefixLength: number;
}

export interface IpLinkAddrs extends IpLink {
  addresses: IpAddr[];
}

export interface IpRoute {
  family: 4 | 6;
  /** "10.0.0.0/8", "10.1.2.3/32", or "" for the default route. */
  dest: string;
  gateway: string;
  device: string;
  /** Preferred source address (`src` in `ip route add`). */
  prefSource: string;
  /** Source prefix of a source-specific route (`from` in `ip route add`). */
  fromPrefix: string;
  /** Route type when not unicast ("blackhole", "unreachable"...). */
  type: string;
  protocol: number;
  scope: number;
  flags: string[];
  mtu: number;
}

type Json = Record<string, unknown>;

function array(text: string, what: string): Json[] {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === "" ? "[]" : text);
  } catch (err) {
    throw new IpOutputError(`${what}: not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) throw new IpOutputError(`${what}: expected a JSON array`);
  return value.map((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw new IpOutputError(`${what}[${i}]: expected an object`);
    return item as Json;
  });
}

function str(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new IpOutputError(`${what}.${key}: expected a string`);
  return v;
}

function optStr(o: Json, key: string, what: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, what);
}

function num(o: Json, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new IpOutputError(`${what}.${key}: expected an integer`);
  return v;
}

function optNum(o: Json, key: string, what: string): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, what);
}

/** A number that `-N` prints as a string ("253"), or the default when absent. */
function numeric(o: Json, key: string, what: string, absent: number): number {
  const v = o[key];
  if (v === undefined) return absent;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  throw new IpOutputError(`${what}.${key}: expected a number, got ${JSON.stringify(v)}`);
}

function strings(o: Json, key: string, what: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string"))
    throw new IpOutputError(`${what}.${key}: expected an array of strings`);
  return v as string[];
}

function link(o: Json, what: string): IpLink {
  const info = o.linkinfo;
  const kind =
    typeof info === "object" && info !== null && typeof (info as Json).info_kind === "string"
      ? ((info as Json).info_kind as string)
      : undefined;
  return {
    index: num(o, "ifindex", what),
    name: str(o, "ifname", what),
    address: (optStr(o, "address", what) ?? "").toLowerCase(),
    mtu: optNum(o, "mtu", what) ?? 0,
    minMtu: optNum(o, "min_mtu", what),
    maxMtu: optNum(o, "max_mtu", what),
    flags: strings(o, "flags", what),
    kind,
  };
}

/** `ip -json [-details] link show`. */
export function parseLinks(text: string): IpLink[] {
  return array(text, "ip link").map((o, i) => link(o, `ip link[${i}]`));
}

/** `ip -json [-details] addr show`: links, each with its addresses. */
export function parseLinkAddrs(text: string): IpLinkAddrs[] {
  return array(text, "ip addr").map((o, i) => {
    const what = `ip addr[${i}]`;
    const info = o.addr_info ?? [];
    if (!Array.isArray(info)) throw new IpOutputError(`${what}.addr_info: expected an array`);
    const addresses: IpAddr[] = [];
    info.forEach((a: unknown, j) => {
      const w = `${what}.addr_info[${j}]`;
      if (typeof a !== "object" || a === null) throw new IpOutputError(`${w}: expected an object`);
      const family = str(a as Json, "family", w);
      // Other families (e.g. "mpls") carry no IP address.
      if (family !== "inet" && family !== "inet6") return;
      addresses.push({
        family: family === "inet" ? 4 : 6,
        address: str(a as Json, "local", w),
        prefixLength: num(a as Json, "prefixlen", w),
      });
    });
    return { ...link(o, what), addresses };
  });
}

/** `ip -json -N -4|-6 route show table main`. */
export function parseRoutes(text: string, family: 4 | 6): IpRoute[] {
  return array(text, "ip route").map((o, i) => {
    const what = `ip route[${i}]`;
    const dst = str(o, "dst", what);
    let mtu = 0;
    const metrics = o.metrics;
    if (Array.isArray(metrics)) {
      for (const m of metrics) {
        if (typeof m === "object" && m !== null && typeof (m as Json).mtu === "number")
          mtu = (m as Json).mtu as number;
      }
    }
    return {
      family,
      dest: dst === "default" ? "" : withPrefix(dst, family),
      gateway: optStr(o, "gateway", what) ?? "",
      device: optStr(o, "dev", what) ?? "",
      prefSource: optStr(o, "prefsrc", what) ?? "",
      fromPrefix: o.from === undefined ? "" : withPrefix(str(o, "from", what), family),
      type: optStr(o, "type", what) ?? "",
      // iproute2 leaves out "proto boot" and "scope global", the defaults.
      protocol: numeric(o, "protocol", what, 3),
      scope: numeric(o, "scope", what, 0),
      flags: strings(o, "flags", what),
      mtu,
    };
  });
}

/** iproute2 prints host routes without their prefix length ("10.1.2.3"); add it back. */
function withPrefix(prefix: string, family: 4 | 6): string {
  return prefix.includes("/") ? prefix : `${prefix}/${family === 4 ? 32 : 128}`;
}
