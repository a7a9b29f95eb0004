// The one error type that crosses the RPC boundary: a status code and a message. Handlers and
// managers throw domain errors (domain-error.ts), which rpc/status-codes.ts turns into this with
// the code the RPC answers; the wires turn anything else into one with `from()`.
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
      return new AgentError(fallback, err.message, { cause: err });
    }
    return new AgentError(fallback, String(err));
  }
}
