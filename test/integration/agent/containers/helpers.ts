// Small helpers shared by the container tests.
import { AgentError } from "../../../../agent/src/client/index.js";
import type { RunningAgent } from "../../../helpers/agent.js";

/** Reads a stream to EOF the way the Kata runtime does (32 KiB ReadStdout/ReadStderr calls). */
export async function readAll(
  a: RunningAgent,
  containerId: string,
  execId: string,
  which: "stdout" | "stderr",
): Promise<string> {
  const parts: Buffer[] = [];
  for (;;) {
    const req = { containerId, execId, len: 32768 };
    const { data } = which === "stdout" ? await a.agent.readStdout(req) : await a.agent.readStderr(req);
    if (data.length === 0) return Buffer.concat(parts).toString();
    parts.push(Buffer.from(data));
  }
}

/** The AgentError a call fails with (the test fails if it succeeds). */
export async function rpcError(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof AgentError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("the call succeeded but an error was expected");
}
