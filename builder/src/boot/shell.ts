// An interactive shell in a container through the agent: a terminal process (ExecProcess with
// Terminal), our terminal in raw mode piped through WriteStdin/ReadStdout, and window size
// changes forwarded with TtyWinResize.
import { AgentService, serviceClient, type TtrpcClient } from "../../../agent/src/client/index.js";
import { bootCheckSpec } from "./spec.js";

export async function interactiveShell(
  client: TtrpcClient,
  containerId: string,
  args = ["/bin/sh"],
): Promise<number> {
  const agent = serviceClient(client, AgentService);
  const execId = `shell-${process.pid}`;
  const stdin = process.stdin;
  const process_ = bootCheckSpec({ rootPath: "", args, hostname: "", terminal: true }).Process;
  await agent.execProcess({ containerId, execId, process: process_ });
  const resize = () =>
    agent
      .ttyWinResize({
        containerId,
        execId,
        row: process.stdout.rows ?? 24,
        column: process.stdout.columns ?? 80,
      })
      .catch(() => {});
  await resize();
  process.stdout.on("resize", resize);
  if (stdin.isTTY) stdin.setRawMode(true);
  const onData = (data: Buffer) => {
    void agent.writeStdin({ containerId, execId, data }).catch(() => {});
  };
  stdin.on("data", onData);
  stdin.resume();
  try {
    for (;;) {
      const { data } = await agent.readStdout({ containerId, execId, len: 32768 });
      if (data.length === 0) break;
      process.stdout.write(data);
    }
    return (await agent.waitProcess({ containerId, execId })).status;
  } finally {
    stdin.off("data", onData);
    process.stdout.off("resize", resize);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }
}
