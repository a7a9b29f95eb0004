// Entry point of the kata-agent bundle.
import { setFlagsFromString } from "node:v8";

// Start-up runs the protobuf descriptor boot and configuration code once. Left alone, V8's
// optimizing compiler would compile those loops and keep 3-4 MB of code and zone memory the
// guest pays for; so optimization is off while starting and back on once the agent serves.
setFlagsFromString("--no-opt");
const { main } = await import("./main.js");
const { exitAgent } = await import("./init/index.js");

main(process.argv.slice(2)).then(
  (code) => {
    setFlagsFromString("--opt");
    // As PID 1 an exit would panic the kernel; exitAgent powers the VM off instead.
    if (code !== 0) exitAgent(code, "start-up failed");
  },
  (err: unknown) => {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`kata-agent: fatal: ${text}\n`);
    exitAgent(70, "fatal error");
  },
);
