// Hostile clients of the agent's ttrpc socket, shared by the memory tests and the bench's
// hostile-load section: connections that send most of a 4 MiB frame and then nothing, and one
// connection that pipelines thousands of calls and reads the replies late.
import { readFileSync } from "node:fs";
import net from "node:net";
import { encodeFrame, FrameDecoder, FrameType, MESSAGE_LENGTH_MAX } from "../../agent/src/ttrpc/frame.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's anonymous resident memory (RssAnon), in bytes. */
export function rssAnonBytes(pid: number): number {
  return Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
}

/** A Request body by hand: service (1) and method (2), no payload. */
export function requestBody(method: string, service = "grpc.AgentService"): Buffer {
  const field = (tag: number, text: string) =>
    Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text)]);
  return Buffer.concat([field(0x0a, service), field(0x12, method)]);
}

export interface HalfFrames {
  sockets: net.Socket[];
  /** How many of the connections have been closed so far (by the agent, until destroyed). */
  closed(): number;
  destroy(): void;
}

/** Opens `count` connections, each sending a 4 MiB frame's header and all but 1 KiB of its body. */
export async function openHalfFrames(socketPath: string, count: number): Promise<HalfFrames> {
  const header = Buffer.alloc(10);
  header.writeUInt32BE(MESSAGE_LENGTH_MAX, 0);
  header.writeUInt32BE(1, 4);
  header[8] = FrameType.Request;
  const body = Buffer.alloc(MESSAGE_LENGTH_MAX - 1024, 0x41);
  const sockets: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const s = net.connect(socketPath);
    s.on("error", () => {});
    s.on("close", () => closed++);
    // Reading, so that the agent's closing it is seen at once.
    s.resume();
    await new Promise((r) => s.once("connect", r).once("close", r));
    s.write(header);
    s.write(body);
    sockets.push(s);
  }
  return {
    sockets,
    closed: () => closed,
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * Writes `calls` requests for `method` at once on one connection, reads nothing for `holdMs`,
 * then reads every reply (for up to `readMs`); returns how many replies came.
 */
export async function pipelinedCalls(
  socketPath: string,
  options: { method: string; calls: number; holdMs: number; readMs: number },
): Promise<number> {
  const s = net.connect(socketPath);
  await new Promise((r) => s.once("connect", r));
  s.pause();
  const frames: Buffer[] = [];
  for (let i = 0; i < options.calls; i++)
    frames.push(encodeFrame(2 * i + 1, FrameType.Request, requestBody(options.method)));
  s.write(Buffer.concat(frames));
  await sleep(options.holdMs);
  const decoder = new FrameDecoder();
  let replies = 0;
  s.on("data", (chunk: Buffer) => {
    replies += decoder.push(chunk).length;
  });
  s.resume();
  for (const until = Date.now() + options.readMs; replies < options.calls && Date.now() < until; )
    await sleep(50);
  s.destroy();
  return replies;
}
