// What the three bins (kata-agent, kata-agent-ctl, kata-build) share of their command lines:
// exit codes, usage errors with "did you mean", and colour only for terminals. Nothing here
// knows the agent; the builder imports it too.
export { colourEnabled, type Stream, type Styles, styles, stylesFor } from "./colour.js";
export {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  formatError,
  UsageError,
  unknownCommand,
  unknownFlag,
} from "./errors.js";
export { flagsOf, parseArgsError } from "./parse-args.js";
export { closest, didYouMean, editDistance } from "./suggest.js";
