// The one error type the builder reports to users: what failed, and what to do about it.
export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    message: string,
    /** The next step for the user, printed under the message. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
