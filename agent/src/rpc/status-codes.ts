// The one table from domain errors to status codes. Managers throw domain errors (what went
// wrong); here each RPC answers them with the code upstream's agent answers, where the Kata
// runtime depends on it or a test pins it. A fault not listed for an RPC gets its kind's code.
import type { AgentService } from "../../gen/agent_pb.js";
import { Code } from "../core/code.js";
import { type DomainError, type FaultKind, type Subject, toDomainError } from "../core/domain-error.js";
import { AgentError } from "../core/error.js";
import type { Interceptor } from "../core/router.js";

/** A fault kind, or a kind about one subject ("not-found:container"). */
export type FaultKey = FaultKind | `${FaultKind}:${Subject}`;
export type CodeRow = Partial<Record<FaultKey, Code>>;
export type AgentRpc = (typeof AgentService.methods)[number]["name"];

/** Each kind's code, unless a subject or an RPC says otherwise. */
export const KIND_CODES: Readonly<Record<FaultKind, Code>> = {
  "not-found": Code.NotFound,
  "already-exists": Code.AlreadyExists,
  "invalid-input": Code.InvalidArgument,
  precondition: Code.FailedPrecondition,
  "resource-exhausted": Code.ResourceExhausted,
  unsupported: Code.Unimplemented,
  unavailable: Code.Unavailable,
  denied: Code.PermissionDenied,
  "timed-out": Code.DeadlineExceeded,
  cancelled: Code.Cancelled,
  "runtime-failure": Code.Internal,
};

/** Subjects upstream answers the same way on every RPC. */
export const SUBJECT_CODES: Readonly<CodeRow> = {
  // "Invalid container id": INVALID_ARGUMENT on most RPCs (the exceptions are below).
  "not-found:container": Code.InvalidArgument,
  // "Link not found" is INTERNAL; the runtime retries UpdateInterface on that text.
  "not-found:interface": Code.Internal,
};

/** Where an RPC answers differently from the rows above, as upstream's agent does. */
export const RPC_CODES: Readonly<Partial<Record<AgentRpc, CodeRow>>> = {
  // A malformed container id and a spec without OCI, Linux, Process or Root.Path: INTERNAL.
  CreateContainer: { "invalid-input:container-id": Code.Internal, "invalid-input:oci-spec": Code.Internal },
  StartContainer: { "not-found:container": Code.Internal },
  // "ETIME: Timer expired" when RemoveContainer's own timeout passes.
  RemoveContainer: { "not-found:container": Code.Internal, "timed-out:removal": Code.Internal },
  // "exec_id '...' already exists" and a request without a process: INTERNAL.
  ExecProcess: {
    "not-found:container": Code.Internal,
    "already-exists:process": Code.Internal,
    "invalid-input:oci-spec": Code.Internal,
  },
  // WriteStdin answers INTERNAL for an unknown container or process and a closed stdin.
  WriteStdin: { "not-found": Code.Internal, precondition: Code.Internal },
  // The OOM long-poll ends with INTERNAL when the sandbox is destroyed.
  GetOOMEvent: { "unavailable:sandbox": Code.Internal },
  // "mem-agent is disabled": INTERNAL.
  MemAgentMemcgSet: { unavailable: Code.Internal },
  MemAgentCompactSet: { unavailable: Code.Internal },
};

/** The code `rpc` answers for `fault`: the RPC's row, then the subject's, then the kind's. */
export function codeFor(rpc: string, fault: Pick<DomainError, "kind" | "subject">): Code {
  const row: CodeRow = RPC_CODES[rpc as AgentRpc] ?? {};
  const specific: FaultKey | undefined = fault.subject ? `${fault.kind}:${fault.subject}` : undefined;
  return (
    (specific && row[specific]) ??
    row[fault.kind] ??
    (specific && SUBJECT_CODES[specific]) ??
    KIND_CODES[fault.kind]
  );
}

/** Anything a handler threw, as the status its RPC answers. */
export function toStatusError(rpc: string, err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const fault = toDomainError(err);
  return new AgentError(codeFor(rpc, fault), fault.message, { cause: err });
}

/** Runs outermost around every handler: what escapes it is a status error. */
export function statusCodes(): Interceptor {
  return async ({ route }, next) => {
    try {
      return await next();
    } catch (err) {
      throw toStatusError(route.method, err);
    }
  };
}
