// The client module against the agent's own ttrpc server on a Unix socket: connect() dials,
// the typed stubs call, failures arrive as AgentError with the status the server answered.
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../../../agent/gen/health_pb.js";
import {
  AddressError,
  AgentError,
  AgentService,
  Code,
  connect,
  DialError,
  Health,
} from "../../../../agent/src/client/index.js";
import { Router } from "../../../../agent/src/core/router.js";
import { Logger } from "../../../../agent/src/log.js";
import { TtrpcServer } from "../../../../agent/src/ttrpc/server.js";

let dir: string;
let address: string;
let server: net.Server;
let ttrpc: TtrpcServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "client-connect-"));
  address = `unix://${path.join(dir, "agent.sock")}`;
  const router = new Router()
    .register(Health, {
      check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
      version: async () => ({ grpcVersion: "0.0.1", agentVersion: "client-test" }),
    })
    .register(AgentService, {
      waitProcess: async (req) => ({ status: req.execId.length }),
      startContainer: async (req) => {
        throw new AgentError(Code.InvalidArgument, `no container ${req.containerId}`);
      },
    });
  ttrpc = new TtrpcServer({ router, log: Logger.create("critical") });
  server = net.createServer((socket) => ttrpc.serve(socket));
  await new Promise<void>((resolve) => server.listen(path.join(dir, "agent.sock"), resolve));
});

afterAll(async () => {
  await ttrpc.shutdown(0);
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("connect", () => {
  it("gives typed stubs for both services over one connection", async () => {
    const client = await connect(address);
    try {
      expect((await client.health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect((await client.health.version({})).agentVersion).toBe("client-test");
      expect((await client.agent.waitProcess({ containerId: "c", execId: "four" })).status).toBe(4);
      expect(client.ttrpc.callsInFlight).toBe(0);
    } finally {
      client.close();
    }
  });

  it("rejects a failed call with the code and message the agent answered", async () => {
    const client = await connect(address);
    try {
      const failed = client.agent.startContainer({ containerId: "ghost" });
      await expect(failed).rejects.toBeInstanceOf(AgentError);
      await expect(failed).rejects.toMatchObject({
        code: Code.InvalidArgument,
        message: "no container ghost",
      });
      // A method this server does not implement.
      await expect(client.agent.pauseContainer({ containerId: "c" })).rejects.toMatchObject({
        code: Code.Unimplemented,
      });
    } finally {
      client.close();
    }
  });

  it("fails calls on a closed connection with UNAVAILABLE", async () => {
    const client = await connect(address);
    client.close();
    await expect(client.health.check({})).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("refuses addresses a client cannot dial, and says when nothing listens", async () => {
    await expect(connect("serial://agent.0")).rejects.toBeInstanceOf(AddressError);
    await expect(connect("nonsense")).rejects.toBeInstanceOf(AddressError);
    await expect(
      connect(`unix://${path.join(dir, "nobody.sock")}`, { timeoutMs: 100 }),
    ).rejects.toBeInstanceOf(DialError);
  });
});
