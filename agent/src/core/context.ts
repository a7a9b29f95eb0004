// What a handler learns about the call it serves, whichever wire (ttrpc or gRPC) carried it.
import type { Logger } from "../log.js";

export interface HandlerContext {
  /** "/grpc.AgentService/CreateContainer". */
  readonly method: string;
  /** Aborted when the deadline passes or the caller goes away; pass it to every wait. */
  readonly signal: AbortSignal;
  /** Absolute deadline in ms since the epoch, when the caller set one. */
  readonly deadline?: number;
  /** Request metadata, keys lower-cased; a key may carry several values. */
  readonly metadata: ReadonlyMap<string, readonly string[]>;
  readonly log: Logger;
}
