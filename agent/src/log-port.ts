// agent.log_vport: the agent's log lines go to whoever connects to this port (the Kata runtime
// does, for Firecracker and StratoVirt) instead of stderr. Upstream blocks start-up until that
// connection arrives and loses what a dropped connection was sent; here start-up never waits:
// while no client is connected, lines go to stderr and are also kept (the newest MAX_KEPT
// bytes) to be sent first to the next client, so the runtime sees the agent's start.
import type { Duplex } from "node:stream";
import type { Logger, Sink } from "./log.js";
import { type Address, formatAddress } from "./transport/address.js";
import { type Listener, listen } from "./transport/listen.js";

/** Lines kept while no client is connected. */
export const MAX_KEPT = 1024 * 1024;

export interface LogPort {
  readonly address: string;
  close(): Promise<void>;
}

export async function startLogPort(
  log: Logger,
  address: Address,
  fallback: Sink = (line) => process.stderr.write(line),
  options: { allowVsockLoopback?: boolean } = {},
): Promise<LogPort> {
  let kept: string[] = [];
  let keptBytes = 0;
  let client: Duplex | undefined;

  const keep = (line: string) => {
    kept.push(line);
    keptBytes += Buffer.byteLength(line);
    while (keptBytes > MAX_KEPT && kept.length > 1) keptBytes -= Buffer.byteLength(kept.shift()!);
  };
  const sink: Sink = (line) => {
    if (client) {
      client.write(line);
      return;
    }
    fallback(line);
    keep(line);
  };

  const listener: Listener = await listen(
    address,
    (socket, peer) => {
      if (client) {
        // One reader at a time, as upstream: a second client is turned away.
        socket.end();
        return;
      }
      client = socket;
      socket.on("data", () => {}); // the client only reads; anything it sends is dropped
      const gone = () => {
        if (client !== socket) return;
        client = undefined;
        log.warn("log client went away; logging to stderr until the next one connects", { peer });
      };
      socket.on("close", gone);
      socket.on("error", gone);
      const backlog = kept.join("");
      kept = [];
      keptBytes = 0;
      socket.write(backlog);
      log.info("logging to a client of the log port", { peer, address: formatAddress(address) });
    },
    {
      ...options,
      onWarning: (message, fields) => log.warn(message, { subsystem: "log-port", ...fields }),
    },
  );
  log.setSink(sink);

  return {
    address: listener.address,
    async close() {
      log.setSink(fallback);
      await listener.close();
      client?.end();
    },
  };
}
