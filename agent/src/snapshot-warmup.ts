// Runs the agent's start-up path once while its start-up snapshot is made, so that what that
// path compiles is in the snapshot: V8 keeps the code of every function that ran when the
// snapshot was taken, and a function that did not run is compiled at its first call, at boot,
// which under emulation costs ~40 times what it costs natively. Only code that changes nothing
// outside the process runs here (the command line and a configuration parsed from strings, the
// in-guest decision on this machine's facts, a log to nowhere, one Health.Check through the
// ttrpc server over an in-memory stream), and it keeps nothing it read: the snapshot keeps the
// heap as it is.
import { Duplex } from "node:stream";
import { create, toBinary } from "@bufbuild/protobuf";
import { RequestSchema } from "../gen/ttrpc/ttrpc_pb.js";
import { loadConfig } from "./config/load.js";
import { decideInGuest, readStartFacts } from "./init/in-guest.js";
import { Logger } from "./log.js";
import { parseCli } from "./main.js";
import { Reaper } from "./processes/reaper.js";
import { buildRouter } from "./rpc/index.js";
import { AgentServices } from "./services.js";
import { encodeFrame, FrameType } from "./ttrpc/frame.js";
import { TtrpcServer } from "./ttrpc/server.js";

/** A connection whose other end is this function: what is written to it is collected. */
function memoryConnection(): { socket: Duplex; replies: Buffer[] } {
  const replies: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      replies.push(chunk);
      done();
    },
  });
  return { socket, replies };
}

/** Resolves once the server has written a reply (or after a few turns of the loop if it never does). */
async function replied(replies: Buffer[]): Promise<void> {
  for (let turn = 0; turn < 100 && replies.length === 0; turn++) await new Promise(setImmediate);
}

export async function warmUpStartPath(): Promise<void> {
  // Node 18 makes a snapshot in a context without Object.hasOwn (the contexts it runs in have it,
  // V8's own, also when started from the snapshot); the logger uses it. Lent for the warm-up.
  const lent = !("hasOwn" in Object);
  if (lent) {
    Object.defineProperty(Object, "hasOwn", {
      value: (o: object, key: PropertyKey) => Object.getOwnPropertyDescriptor(o, key) !== undefined,
      configurable: true,
      writable: true,
    });
  }
  try {
    await warmUp();
  } finally {
    if (lent) Reflect.deleteProperty(Object, "hasOwn");
  }
}

async function warmUp(): Promise<void> {
  parseCli(["--cmdline", "/proc/cmdline"]);
  // Reads this machine's /proc and /run, and keeps nothing of them.
  decideInGuest(readStartFacts({}), undefined);
  const { config } = loadConfig({
    cmdline:
      "agent.log=info agent.server_addr=vsock://-1:1024,serial://agent.channel.0 agent.hotplug_timeout=3",
    env: {},
    readFile: () => "",
  });
  const log = Logger.create("info", () => {});
  log.info("warm-up", { phase: "snapshot" });
  // No pod is made here, so nothing uses the reaper; its SIGCHLD listener goes with it.
  const reaper = new Reaper(log);
  reaper.close();
  const services = new AgentServices({
    config,
    log,
    inGuest: false,
    reaper,
    onSandboxDestroyed: () => {},
    features: () => ({ inGuest: false, inGuestReason: "", debugConsole: [], vsockLoopbackAllowed: false }),
  });
  const router = buildRouter(services);
  const server = new TtrpcServer({ router, log });
  const { socket, replies } = memoryConnection();
  server.serve(socket, "warm-up");
  const request = create(RequestSchema, {
    service: "grpc.Health",
    method: "Check",
    payload: new Uint8Array(),
  });
  socket.push(encodeFrame(1, FrameType.Request, toBinary(RequestSchema, request)));
  await replied(replies);
  socket.destroy();
  if (replies.length === 0) throw new Error("the warm-up Health.Check got no reply");
}
