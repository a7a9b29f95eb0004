// What a program using the library hands every build function besides its options.
import { Progress, type ProgressEvent } from "../util/progress.js";

export interface BuildHooks {
  /** Called for each step started, finished or failed, heartbeats and details, as they happen. */
  onProgress?: (event: ProgressEvent) => void;
}

/** The step logger a pipeline reports to: events to the caller, or nothing. */
export function progressOf(hooks: BuildHooks): Progress {
  return hooks.onProgress ? new Progress({ onEvent: hooks.onProgress }) : new Progress({ quiet: true });
}
