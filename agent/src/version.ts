// Versions reported by Health.Version and GetGuestDetails.
import pkg from "../../package.json" with { type: "json" };

/** This agent's release. */
export const AGENT_VERSION: string = pkg.version;
/** The Kata agent API version, as upstream reports it (unchanged since the Rust agent). */
export const API_VERSION = "0.0.1";
