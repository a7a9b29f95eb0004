// Timers armed from request fields (timeout_nano, RemoveContainer's timeout, compact_sec_max).
// Node's setTimeout keeps the delay as a signed 32-bit count of milliseconds: a longer delay
// (2^31 ms, about 24.8 days) does not wait longer, it fires after 1 ms with only a warning.
// For a call, a delay past what a timer can hold means "no deadline".

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The delay to arm a timer with, or undefined for none: zero, negative and NaN mean "no
 * deadline" (as an unset timeout_nano does), and so does anything longer than a timer can hold.
 */
export function timerDelay(ms: number): number | undefined {
  if (!(ms > 0) || ms > MAX_TIMER_MS) return undefined;
  return ms;
}
