// google.rpc.Status on the ttrpc wire, to and from AgentError.
import { create } from "@bufbuild/protobuf";
import { type Status, StatusSchema } from "../../gen/ttrpc/ttrpc_pb.js";
import { Code } from "../core/code.js";
import { AgentError } from "../core/error.js";

export function toStatus(err: AgentError): Status {
  return create(StatusSchema, { code: err.code, message: err.message });
}

export function fromStatus(status: Status): AgentError {
  const code = status.code in Code ? (status.code as Code) : Code.Unknown;
  return new AgentError(code, status.message);
}
