// What went wrong, in the agent's own terms. Managers, drivers and tool modules throw these; they
// never pick a status code. The RPC boundary (rpc/status-codes.ts) maps each kind, per RPC, to
// the code the Kata runtime expects there.

export type FaultKind =
  | "not-found"
  | "already-exists"
  | "invalid-input"
  | "precondition"
  | "resource-exhausted"
  | "unsupported"
  | "unavailable"
  | "denied"
  | "timed-out"
  | "cancelled"
  | "runtime-failure";

/**
 * What a fault is about, where an RPC answers differently by it: an unknown container and an
 * unknown process of a known container are both "not found", but upstream answers them with
 * different codes.
 */
export type Subject =
  | "container"
  | "process"
  | "container-id"
  | "oci-spec"
  | "removal"
  | "sandbox"
  | "interface"
  | "device"
  | "storage"
  | "path";

export interface FaultOptions {
  subject?: Subject;
  cause?: unknown;
}

export abstract class DomainError extends Error {
  abstract readonly kind: FaultKind;
  readonly subject: Subject | undefined;

  constructor(message: string, options: FaultOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.subject = options.subject;
  }
}

/** Something the request names does not exist: a container, a process, a device, a path. */
export class NotFoundError extends DomainError {
  override readonly name = "NotFoundError";
  readonly kind = "not-found";
  constructor(what: Subject, message: string, options: Omit<FaultOptions, "subject"> = {}) {
    super(message, { ...options, subject: what });
  }
}

/** The request would create something that is already there. */
export class AlreadyExistsError extends DomainError {
  override readonly name = "AlreadyExistsError";
  readonly kind = "already-exists";
  constructor(what: Subject, message: string, options: Omit<FaultOptions, "subject"> = {}) {
    super(message, { ...options, subject: what });
  }
}

/** The request itself is wrong (a missing field, a bad value); resending it as is will fail. */
export class InvalidInputError extends DomainError {
  override readonly name = "InvalidInputError";
  readonly kind = "invalid-input";
}

/** The request is fine but the state of the guest or the container does not allow it now. */
export class PreconditionError extends DomainError {
  override readonly name = "PreconditionError";
  readonly kind = "precondition";
}

/** Not enough of something: disk space, huge pages, calls in flight. */
export class ResourceExhaustedError extends DomainError {
  override readonly name = "ResourceExhaustedError";
  readonly kind = "resource-exhausted";
}

/** A feature (driver, device type, filesystem) this agent does not offer. */
export class UnsupportedError extends DomainError {
  override readonly name = "UnsupportedError";
  readonly kind = "unsupported";
}

/** What the call needs is not there to be used (a terminal, a sandbox being torn down). */
export class UnavailableError extends DomainError {
  override readonly name = "UnavailableError";
  readonly kind = "unavailable";
}

/** Refused: by the agent policy, or by the system for lack of permission. */
export class DeniedError extends DomainError {
  override readonly name = "DeniedError";
  readonly kind = "denied";
}

/** A wait ran out of time (a hot-plugged device that never came, a removal, a tool). */
export class TimedOutError extends DomainError {
  override readonly name = "TimedOutError";
  readonly kind = "timed-out";
}

/** The caller went away or the work was stopped before it finished. */
export class CancelledError extends DomainError {
  override readonly name = "CancelledError";
  readonly kind = "cancelled";
}

/** The guest failed to do what was asked: an OCI runtime, a tool, a mount, a kernel interface. */
export class RuntimeFailure extends DomainError {
  override readonly name = "RuntimeFailure";
  readonly kind = "runtime-failure";
}

/**
 * Any thrown value as a domain error: domain errors pass through; an expired or aborted wait
 * becomes timed-out / cancelled; system errors with an obvious meaning (ENOENT, EEXIST, EACCES,
 * EPERM) keep it; anything else is a runtime failure carrying the original as its cause.
 */
export function toDomainError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  if (!(err instanceof Error)) return new RuntimeFailure(String(err));
  if (err.name === "TimeoutError") return new TimedOutError(err.message || "timed out", { cause: err });
  if (err.name === "AbortError") return new CancelledError(err.message || "cancelled", { cause: err });
  switch ((err as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return new NotFoundError("path", err.message, { cause: err });
    case "EEXIST":
      return new AlreadyExistsError("path", err.message, { cause: err });
    case "EACCES":
    case "EPERM":
      return new DeniedError(err.message, { cause: err });
    default:
      return new RuntimeFailure(err.message, { cause: err });
  }
}

/**
 * The same fault, its message rewritten to say where it happened (e.g. which storage). A domain
 * error is rewritten in place: each is made for one throw.
 */
export function withContext(err: unknown, rewrite: (message: string) => string): DomainError {
  const fault = toDomainError(err);
  fault.message = rewrite(fault.message);
  return fault;
}
