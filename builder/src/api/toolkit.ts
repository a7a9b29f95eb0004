// kata-guest-toolkit: the package's main entry. The builder's functions and the agent client as
// two namespaces; each is also its own entry (kata-guest-toolkit/builder, kata-guest-toolkit/client).
//
//   import { builder, client } from "kata-guest-toolkit";
export * as client from "../../../agent/src/client/index.js";
export { TOOL_VERSION as version } from "../util/manifest.js";
export * as builder from "./index.js";
