// The one error type that crosses the RPC boundary. Managers throw it with the code upstream
// answers for that case (agent-api.md §7); anything else is wrapped by `from()`.
import { Code, codeName } from "./code.js";

export class AgentError extends Error {
  override readonly name = "AgentError";

  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** "NOT_FOUND: Process not found: invalid exec id", the form errors are shown to users in. */
  override toString(): string {
    return `${codeName(this.code)}: ${this.message}`;
  }

  /** Wraps any thrown value: AgentErrors pass through, aborts map to their codes, the rest is Internal. */
  static from(err: unknown, fallback: Code = Code.Internal): AgentError {
    if (err instanceof AgentError) return err;
    if (err instanceof Error) {
      if (err.name === "TimeoutError")
        return new AgentError(Code.DeadlineExceeded, "timeout", { cause: err });
      if (err.name === "AbortError")
        return new AgentError(Code.Cancelled, err.message || "cancelled", { cause: err });
      const code = systemErrorCode(err);
      return new AgentError(code ?? fallback, err.message, { cause: err });
    }
    return new AgentError(fallback, String(err));
  }
}

/** Node system errors with an obvious gRPC meaning (as containerd's ttrpc convertCode does). */
function systemErrorCode(err: Error): Code | undefined {
  switch ((err as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return Code.NotFound;
    case "EACCES":
    case "EPERM":
      return Code.PermissionDenied;
    case "EEXIST":
      return Code.AlreadyExists;
    default:
      return undefined;
  }
}
