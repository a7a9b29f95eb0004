// Entry point of the kata-agent bundle (loaded by node from kata-agent.mjs when no start-up
// snapshot is used): starts the start-up clock, then loads the agent's start-up code.
import { mark, startClock } from "./startup-clock.js";

startClock({ snapshot: false });
const { startAgent } = await import("./start.js");
mark("load");
startAgent(process.argv.slice(2));
