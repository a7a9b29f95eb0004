// Agent addresses as the Kata runtime and agent spell them, parsed once into a typed value.
//   vsock://<cid>:<port>    AF_VSOCK; cid -1 (or "any") listens on every CID
//   unix://<path>           Unix socket; unix://@<name> is an abstract socket
//   tcp://<host>:<port>     TCP, for development and tests
//   serial://<name>         virtio-serial port found by its name (agent side only)
//   hvsock://<path>:<port>  hybrid vsock: a VMM's Unix socket plus a guest port (client side only)

export const VMADDR_CID_ANY = 0xffffffff;

export type Address =
  | { scheme: "vsock"; cid: number; port: number }
  | { scheme: "unix"; path: string; abstract: boolean }
  | { scheme: "tcp"; host: string; port: number }
  | { scheme: "serial"; name: string }
  | { scheme: "hvsock"; path: string; port: number };

export type Scheme = Address["scheme"];

export class AddressError extends Error {
  override readonly name = "AddressError";
}

const FORMS =
  "expected vsock://<cid>:<port>, unix://<path>, unix://@<name>, tcp://<host>:<port>, serial://<port-name> or hvsock://<path>:<port>";

export function parseAddress(text: string, allowed?: readonly Scheme[]): Address {
  const match = /^([a-z]+):\/\/(.*)$/.exec(text.trim());
  if (!match) throw new AddressError(`'${text}' is not an address: ${FORMS}`);
  const [, scheme = "", rest = ""] = match;
  const address = parseScheme(scheme, rest, text);
  if (allowed && !allowed.includes(address.scheme)) {
    throw new AddressError(`'${text}': ${address.scheme}:// is not usable here (use ${allowed.join(", ")})`);
  }
  return address;
}

function parseScheme(scheme: string, rest: string, text: string): Address {
  switch (scheme) {
    case "vsock": {
      const [cidText, portText] = splitLast(rest, text);
      const cid = cidText === "-1" || cidText === "any" ? VMADDR_CID_ANY : parseU32(cidText, "CID", text);
      return { scheme, cid, port: parseU32(portText, "port", text) };
    }
    case "unix": {
      if (!rest) throw new AddressError(`'${text}': the socket path is empty`);
      return rest.startsWith("@")
        ? { scheme, path: rest.slice(1), abstract: true }
        : { scheme, path: rest, abstract: false };
    }
    case "tcp": {
      const [hostText, portText] = splitLast(rest, text);
      const host = hostText.replace(/^\[(.*)\]$/, "$1");
      const port = parseU32(portText, "port", text);
      if (port > 65535) throw new AddressError(`'${text}': TCP port ${port} is above 65535`);
      return { scheme, host: host || "127.0.0.1", port };
    }
    case "serial": {
      if (!rest) throw new AddressError(`'${text}': the virtio-serial port name is empty`);
      return { scheme, name: rest };
    }
    case "hvsock": {
      const [path, portText] = splitLast(rest, text);
      if (!path) throw new AddressError(`'${text}': the hybrid vsock socket path is empty`);
      return { scheme, path, port: parseU32(portText, "port", text) };
    }
    default:
      throw new AddressError(`'${text}': unknown scheme '${scheme}://'; ${FORMS}`);
  }
}

function splitLast(rest: string, text: string): [string, string] {
  const i = rest.lastIndexOf(":");
  if (i < 0) throw new AddressError(`'${text}': missing ':<port>'`);
  return [rest.slice(0, i), rest.slice(i + 1)];
}

function parseU32(value: string, what: string, text: string): number {
  if (!/^\d+$/.test(value)) throw new AddressError(`'${text}': ${what} '${value}' is not a number`);
  const n = Number(value);
  if (n > 0xffffffff) throw new AddressError(`'${text}': ${what} ${value} is out of range`);
  return n;
}

export function formatAddress(address: Address): string {
  switch (address.scheme) {
    case "vsock":
      return `vsock://${address.cid === VMADDR_CID_ANY ? "-1" : address.cid}:${address.port}`;
    case "unix":
      return `unix://${address.abstract ? "@" : ""}${address.path}`;
    case "tcp":
      return `tcp://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
    case "serial":
      return `serial://${address.name}`;
    case "hvsock":
      return `hvsock://${address.path}:${address.port}`;
  }
}

/** The path Node's net module takes for a Unix address (abstract names start with NUL). */
export function unixSocketPath(address: { path: string; abstract: boolean }): string {
  return address.abstract ? `\0${address.path}` : address.path;
}
