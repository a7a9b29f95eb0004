// Methods that answer UNIMPLEMENTED in this build. The Kata runtime treats that code as
// "feature absent" (it tolerates it for AddARPNeighbors and UpdateEphemeralMounts), so an
// honest UNIMPLEMENTED beats a handler that pretends.
import { UnsupportedError } from "../core/domain-error.js";

const UNIMPLEMENTED = Symbol("unimplemented");

export type Unimplemented = ((...args: unknown[]) => Promise<never>) & { [UNIMPLEMENTED]: true };

/** A handler that refuses with UNIMPLEMENTED, naming the RPC. */
export function unimplemented(rpc: string): Unimplemented {
  const handler = async (): Promise<never> => {
    throw new UnsupportedError(`${rpc} is not implemented by this agent yet`);
  };
  return Object.assign(handler, { [UNIMPLEMENTED]: true as const });
}

export function isUnimplemented(handler: unknown): boolean {
  return typeof handler === "function" && UNIMPLEMENTED in handler;
}
