// One call from an address to a typed agent client: dial (with retries while the guest boots),
// then a ttrpc connection with stubs for grpc.AgentService and grpc.Health on it.
import { AgentService } from "../../gen/agent_pb.js";
import { Health } from "../../gen/health_pb.js";
import { type Address, parseAddress, type Scheme } from "../transport/address.js";
import { type DialOptions, dial } from "./dial.js";
import { type ServiceClient, serviceClient } from "./service-client.js";
import { TtrpcClient } from "./ttrpc-client.js";

/** The address forms a client can dial (serial:// is the agent's side of a virtio-serial port). */
export const CLIENT_SCHEMES: readonly Scheme[] = ["vsock", "hvsock", "unix", "tcp"];

export type ConnectOptions = DialOptions;

export interface AgentClient {
  /** grpc.AgentService: createContainer, readStdout, ... (one method per RPC). */
  readonly agent: ServiceClient<typeof AgentService>;
  /** grpc.Health: check and version. */
  readonly health: ServiceClient<typeof Health>;
  /** The connection underneath, for raw calls (`call(service, method, bytes)`) and more stubs. */
  readonly ttrpc: TtrpcClient;
  /** Closes the connection; calls in flight fail with UNAVAILABLE. */
  close(): void;
}

/**
 * Connects to an agent at `address` ("vsock://3:1024", "unix:///run/agent.sock", ... or a parsed
 * Address), retrying until it answers or `timeoutMs` (default 3 s) has passed.
 */
export async function connect(address: string | Address, options: ConnectOptions = {}): Promise<AgentClient> {
  const target = typeof address === "string" ? parseAddress(address, CLIENT_SCHEMES) : address;
  const ttrpc = new TtrpcClient(await dial(target, options));
  return {
    agent: serviceClient(ttrpc, AgentService),
    health: serviceClient(ttrpc, Health),
    ttrpc,
    close: () => ttrpc.close(),
  };
}
