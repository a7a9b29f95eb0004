// The agent's debug console, checked from the host: a command typed into the shell the agent
// serves on its console port answers with what only the guest's shell can compute. The port is a
// virtio-serial one, which has no end of stream for the host, so the answer is awaited, not EOF.
import { dial, parseAddress } from "../../../agent/src/client/index.js";

export interface ConsoleAnswer {
  /** The line that answered (shell arithmetic and the guest's kernel release). */
  line: string;
  /** Everything the console sent, for a failure message. */
  output: string;
  ms: number;
}

/** The command typed; its answer is the line `ANSWER` matches. */
const COMMAND = 'echo "kata-console $((6 * 7)) $(uname -r)"';
const ANSWER = /^kata-console 42 (\S+)\r?$/m;

export async function checkDebugConsole(address: string, timeoutMs: number): Promise<ConsoleAnswer> {
  const t0 = performance.now();
  const socket = await dial(parseAddress(address), { timeoutMs, retryMs: 100 });
  let output = "";
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `the debug console did not answer in ${timeoutMs} ms; it sent: ${JSON.stringify(output)}`,
            ),
          ),
        timeoutMs,
      );
      // Typed once the shell has printed its prompt (input typed ahead of a shell that is
      // still setting up its terminal can be lost), or after a while if it prints none; typed
      // again if that went unanswered.
      let typed = 0;
      const type = () => {
        if (typed++ < 2) socket.write(`${COMMAND}\n`);
      };
      const unprompted = setTimeout(type, 2000);
      const retry = setInterval(type, 8000);
      const done = () => {
        clearTimeout(timer);
        clearTimeout(unprompted);
        clearInterval(retry);
      };
      socket.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        if (typed === 0) {
          clearTimeout(unprompted);
          type();
        }
        const m = ANSWER.exec(output);
        if (m) {
          done();
          resolve(m[0].trim());
        }
      });
      socket.on("error", (err) => {
        done();
        reject(err);
      });
    });
    socket.write("exit\n");
    return { line, output, ms: Math.round(performance.now() - t0) };
  } finally {
    socket.destroy();
  }
}
