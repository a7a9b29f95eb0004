// Checks on what a request names before anything is done with it. Container and exec ids become
// directory and file names: upstream's pattern, which also rules out "..", "/" and empty names.
import { InvalidInputError } from "../core/domain-error.js";

const ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_LENGTH = 128;

export function validateContainerId(id: string): void {
  if (id.length < 2 || id.length > MAX_LENGTH || !ID.test(id)) {
    // Upstream's text; the hint is ours.
    throw new InvalidInputError(
      `invalid container ID ${JSON.stringify(id)}: use 2 to ${MAX_LENGTH} characters of [a-zA-Z0-9_.-], starting with a letter or digit`,
      { subject: "container-id" },
    );
  }
}

export function validateExecId(id: string): void {
  if (id.length < 1 || id.length > MAX_LENGTH || !ID.test(id)) {
    throw new InvalidInputError(
      `invalid exec ID ${JSON.stringify(id)}: use up to ${MAX_LENGTH} characters of [a-zA-Z0-9_.-], starting with a letter or digit`,
    );
  }
}

/** A request whose spec lacks what every container needs (upstream answers these INTERNAL). */
export function badSpec(message: string): InvalidInputError {
  return new InvalidInputError(message, { subject: "oci-spec" });
}
