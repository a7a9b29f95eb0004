// grpc-js (1.14) arms a server call's deadline timer with `(value * unit) | 0`: past 2^31 ms
// (about 24.8 days) the 32-bit truncation makes the delay negative or small, and the call fails
// with DEADLINE_EXCEEDED at once (a 35-day grpc-timeout did). As on the ttrpc side, a deadline
// longer than a timer can hold means none: grpc-js's handling of the grpc-timeout header is
// kept for every other value, and skipped for those.
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import { MAX_TIMER_MS } from "../core/timer.js";

/** The header's form (8 digits at most and a unit), and each unit in milliseconds. */
const TIMEOUT_HEADER = /(\d{1,8})\s*([HMSmun])/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

type HeaderHandler = (this: unknown, header: unknown) => void;
let patched = false;

/** Makes grpc-js leave calls whose grpc-timeout is past a timer's range without a deadline. */
export function treatHugeDeadlinesAsNone(): void {
  if (patched) return;
  patched = true;
  const proto = BaseServerInterceptingCall.prototype as unknown as { handleTimeoutHeader: HeaderHandler };
  const original = proto.handleTimeoutHeader;
  if (typeof original !== "function") return; // another grpc-js: leave it be
  proto.handleTimeoutHeader = function (this: unknown, header: unknown) {
    const match = TIMEOUT_HEADER.exec(String(header));
    const ms = match ? Number(match[1]) * (UNIT_MS[match[2]!] ?? 0) : 0;
    if (ms > MAX_TIMER_MS) return; // no timer: the call's deadline stays Infinity
    original.call(this, header);
  };
}
