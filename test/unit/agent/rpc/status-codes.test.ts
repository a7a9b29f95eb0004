// The table from domain errors to status codes, checked against what the Kata runtime and
// upstream's agent do: the codes the runtime branches on, and upstream's answer for each fault
// the runtime sees (unknown container or process, reused exec id, no terminal, ...).
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AgentService, WaitProcessRequestSchema } from "../../../../agent/gen/agent_pb.js";
import { Code } from "../../../../agent/src/core/code.js";
import {
  AlreadyExistsError,
  type DomainError,
  InvalidInputError,
  NotFoundError,
  PreconditionError,
  RuntimeFailure,
  TimedOutError,
  UnavailableError,
  UnsupportedError,
} from "../../../../agent/src/core/domain-error.js";
import { AgentError } from "../../../../agent/src/core/error.js";
import { Router } from "../../../../agent/src/core/router.js";
import { Logger } from "../../../../agent/src/log.js";
import { codeFor, KIND_CODES, statusCodes, toStatusError } from "../../../../agent/src/rpc/status-codes.js";

const RPCS = AgentService.methods.map((m) => m.name);
const unknownContainer = () => new NotFoundError("container", 'Invalid container id "x"');
const unknownProcess = () => new NotFoundError("process", "Process not found: invalid exec id");

/** [RPC, fault, the code upstream's agent answers]: the facts the table must reproduce. */
const UPSTREAM: [string, () => DomainError, Code][] = [
  // Unknown container: INTERNAL where upstream looks it up without a status, else INVALID_ARGUMENT.
  ...["StartContainer", "RemoveContainer", "ExecProcess", "WriteStdin"].map(
    (rpc) => [rpc, unknownContainer, Code.Internal] as [string, () => DomainError, Code],
  ),
  ...[
    "SignalProcess",
    "WaitProcess",
    "ReadStdout",
    "ReadStderr",
    "CloseStdin",
    "TtyWinResize",
    "UpdateContainer",
    "StatsContainer",
    "PauseContainer",
    "ResumeContainer",
  ].map((rpc) => [rpc, unknownContainer, Code.InvalidArgument] as [string, () => DomainError, Code]),
  // Unknown exec id, or a process already waited for: NOT_FOUND; on WriteStdin, INTERNAL.
  ...["SignalProcess", "WaitProcess", "ReadStdout", "ReadStderr", "CloseStdin", "TtyWinResize"].map(
    (rpc) => [rpc, unknownProcess, Code.NotFound] as [string, () => DomainError, Code],
  ),
  ["WriteStdin", unknownProcess, Code.Internal],
  [
    "CreateContainer",
    () => new InvalidInputError("invalid container ID", { subject: "container-id" }),
    Code.Internal,
  ],
  [
    "CreateContainer",
    () => new InvalidInputError("EINVAL: Invalid argument", { subject: "oci-spec" }),
    Code.Internal,
  ],
  [
    "ExecProcess",
    () => new InvalidInputError("EINVAL: Invalid argument", { subject: "oci-spec" }),
    Code.Internal,
  ],
  ["ExecProcess", () => new AlreadyExistsError("process", "exec_id 'e' already exists"), Code.Internal],
  ["TtyWinResize", () => new UnavailableError("no tty"), Code.Unavailable],
  ["RemoveContainer", () => new TimedOutError("ETIME: Timer expired", { subject: "removal" }), Code.Internal],
  [
    "GetDiagnosticData",
    () => new InvalidInputError("unsupported diagnostic log_type: x"),
    Code.InvalidArgument,
  ],
  [
    "UpdateInterface",
    () => new NotFoundError("interface", "update interface: Link not found"),
    Code.Internal,
  ],
  ["MemAgentMemcgSet", () => new UnavailableError("mem-agent is disabled"), Code.Internal],
  ["MemAgentCompactSet", () => new UnavailableError("mem-agent is disabled"), Code.Internal],
  [
    "GetOOMEvent",
    () => new UnavailableError("the sandbox is being destroyed", { subject: "sandbox" }),
    Code.Internal,
  ],
];

describe("status codes", () => {
  it.each(UPSTREAM.map(([rpc, fault, code]) => [rpc, fault().message, fault, code] as const))(
    "%s answers %s as upstream does",
    (rpc, _message, fault, code) => {
      expect(RPCS).toContain(rpc);
      expect(codeFor(rpc, fault())).toBe(code);
    },
  );

  it("answers UNIMPLEMENTED for a missing feature on every RPC (the runtime reads it as an older agent)", () => {
    // The runtime ignores UNIMPLEMENTED from AddARPNeighbors and UpdateEphemeralMounts.
    for (const rpc of RPCS) expect(codeFor(rpc, new UnsupportedError("no")), rpc).toBe(Code.Unimplemented);
  });

  it("answers DEADLINE_EXCEEDED for a wait that ran out of time, except RemoveContainer's own timer", () => {
    for (const rpc of RPCS)
      expect(codeFor(rpc, new TimedOutError("timed out")), rpc).toBe(Code.DeadlineExceeded);
    expect(codeFor("RemoveContainer", new TimedOutError("ETIME", { subject: "removal" }))).toBe(
      Code.Internal,
    );
  });

  it("keeps the messages the runtime matches on", () => {
    // The runtime retries UpdateInterface on "Link not found" and ignores "ESRCH: No such process".
    const link = toStatusError("UpdateInterface", new NotFoundError("interface", "x: Link not found (eth9)"));
    expect(link).toMatchObject({ code: Code.Internal, message: "x: Link not found (eth9)" });
    const esrch = toStatusError("SignalProcess", new RuntimeFailure("ESRCH: No such process"));
    expect(esrch.message).toBe("ESRCH: No such process");
  });

  it("gives every kind a code on every RPC, and the same fault the same code where upstream agrees", () => {
    for (const rpc of RPCS) {
      for (const kind of Object.keys(KIND_CODES)) {
        expect(
          Code[codeFor(rpc, { kind: kind as keyof typeof KIND_CODES, subject: undefined })],
        ).toBeDefined();
      }
    }
    // A precondition is FAILED_PRECONDITION wherever upstream has no INTERNAL of its own for it.
    const preconditions = RPCS.filter(
      (rpc) => codeFor(rpc, new PreconditionError("not now")) !== Code.FailedPrecondition,
    );
    expect(preconditions).toEqual(["WriteStdin"]);
  });

  it("passes status errors through, and maps system errors and anything else", () => {
    const status = new AgentError(Code.Aborted, "as is");
    expect(toStatusError("WaitProcess", status)).toBe(status);
    const enoent = Object.assign(new Error("open /x: ENOENT"), { code: "ENOENT" });
    expect(toStatusError("GetVolumeStats", enoent)).toMatchObject({
      code: Code.NotFound,
      message: "open /x: ENOENT",
    });
    const eperm = Object.assign(new Error("swapon: EPERM"), { code: "EPERM" });
    expect(toStatusError("AddSwapPath", eperm).code).toBe(Code.PermissionDenied);
    expect(toStatusError("GetMetrics", new TypeError("bug")).code).toBe(Code.Internal);
    expect(toStatusError("GetMetrics", new DOMException("timeout", "TimeoutError")).code).toBe(
      Code.DeadlineExceeded,
    );
  });

  it("is applied around handlers by its interceptor, by the RPC's name", async () => {
    const router = new Router().use(statusCodes()).register(AgentService, {
      waitProcess: async () => {
        throw unknownProcess();
      },
      startContainer: async () => {
        throw unknownContainer();
      },
    });
    const ctx = {
      method: "",
      signal: new AbortController().signal,
      metadata: new Map(),
      log: Logger.create("critical"),
    };
    const call = (method: string) => {
      const found = router.lookup("grpc.AgentService", method);
      if (!("route" in found)) throw new Error(method);
      return found.route.handle(create(WaitProcessRequestSchema), ctx);
    };
    await expect(call("WaitProcess")).rejects.toMatchObject({ code: Code.NotFound });
    await expect(call("StartContainer")).rejects.toMatchObject({ code: Code.Internal });
    await expect(call("WaitProcess")).rejects.toBeInstanceOf(AgentError);
  });
});
