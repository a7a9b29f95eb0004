// The agent's client: everything a program needs to talk to a Kata agent, and nothing of the
// agent's server. kata-agent-ctl, `kata-build boot` and the tests use it.
//
//   const client = await connect("unix:///run/agent.sock", { timeoutMs: 5000 });
//   await client.health.check({});
//   await client.agent.createContainer({ containerId: "c1", OCI: fromRuntimeSpec(configJson) });
//   const { status } = await runContainer(client.agent, {
//     containerId: "c2", rootfs: "/run/rootfs", args: ["sh", "-c", "echo hi"],
//     onStdout: (data) => process.stdout.write(data),
//   });
//   client.close();
//
// A failed call rejects with an AgentError: the status code (Code) and message the agent
// answered, or UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED decided on this side.
export { AgentService } from "../../gen/agent_pb.js";
export { Health } from "../../gen/health_pb.js";
export type { SpecSchema } from "../../gen/oci_pb.js";
export { Code, codeName } from "../core/code.js";
export { AgentError } from "../core/error.js";
export {
  type Address,
  AddressError,
  formatAddress,
  parseAddress,
  type Scheme,
} from "../transport/address.js";
export { type AgentClient, CLIENT_SCHEMES, type ConnectOptions, connect } from "./connect.js";
export {
  type ContainerSpecOptions,
  capabilityName,
  containerSpec,
  DEFAULT_CAPABILITIES,
  type ProcessOptions,
  processSpec,
  runtimeSpec,
  SpecOptionError,
} from "./container-spec.js";
export { DialError, type DialOptions, dial } from "./dial.js";
export {
  type ExecOptions,
  execProcess,
  type RunOptions,
  type RunResult,
  runContainer,
  type StdioOptions,
  startDetached,
} from "./run.js";
export { type ServiceClient, serviceClient } from "./service-client.js";
export { fromResources, fromRuntimeSpec, type SpecInit } from "./spec.js";
export { type CallOptions, TtrpcClient } from "./ttrpc-client.js";
