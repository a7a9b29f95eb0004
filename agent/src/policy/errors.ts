// A policy document that cannot be loaded; the message names the place in the document.
export class PolicyError extends Error {
  override readonly name = "PolicyError";
}
