// Runs the agent and turns how it ended into the process's end: as PID 1 an exit would panic
// the kernel, so exitAgent powers the VM off instead. Shared by both entry points (the bundle
// and the start-up snapshot).
import { setFlagsFromString } from "node:v8";
import { exitAgent } from "./init/index.js";
import { main } from "./main.js";

export function startAgent(argv: string[]): void {
  // The start runs the configuration and listener code once. Left alone, V8's optimizing
  // compiler would compile those paths and keep code and zone memory the guest pays for; so
  // optimization is off while starting and back on once the agent serves.
  setFlagsFromString("--no-opt");
  main(argv).then(
    (code) => {
      setFlagsFromString("--opt");
      if (code !== 0) exitAgent(code, "start-up failed");
    },
    (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`kata-agent: fatal: ${text}\n`);
      exitAgent(70, "fatal error");
    },
  );
}
