// `kata-agent-ctl bridge`: relays every connection accepted on one address to another, byte for
// byte. In a guest without vhost-vsock on the host, it exposes the agent's vsock listener
// through a virtio-serial port (serial://... -> vsock://1:1024), which is how the boot check
// reaches the agent's real AF_VSOCK code path over vsock loopback.
import type { Duplex } from "node:stream";
import { type Address, dial, formatAddress } from "../client/index.js";
import { listen } from "../transport/listen.js";

export async function runBridge(from: Address, to: Address, say: (line: string) => void): Promise<void> {
  const listener = await listen(
    from,
    (inbound, peer) => {
      inbound.pause();
      dial(to, { timeoutMs: 10_000, retryMs: 50 }).then(
        (outbound) => {
          say(`bridge: ${peer} -> ${formatAddress(to)}`);
          splice(inbound, outbound);
        },
        (err: unknown) => {
          say(`bridge: cannot reach ${formatAddress(to)}: ${(err as Error).message}`);
          inbound.destroy();
        },
      );
    },
    { onWarning: (message) => say(`bridge: ${message}`) },
  );
  say(`bridge: ${listener.address} -> ${formatAddress(to)}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      void listener.close().then(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}

/** Both directions; either side closing closes the other. */
function splice(a: Duplex, b: Duplex): void {
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", close).on("close", close);
  b.on("error", close).on("close", close);
  a.pipe(b);
  b.pipe(a);
  a.resume();
}
