// ttrpc client: one connection, many concurrent calls matched to replies by odd stream ids.
// A failed call rejects with an AgentError carrying the status the agent answered.
import type { Duplex } from "node:stream";
import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { RequestSchema, ResponseSchema } from "../../gen/ttrpc/ttrpc_pb.js";
import { Code } from "../core/code.js";
import { AgentError } from "../core/error.js";
import { encodeFrame, FrameDecoder, FrameType } from "../ttrpc/frame.js";
import { fromStatus } from "../ttrpc/status.js";

export interface CallOptions {
  /** Sent as timeout_nano and enforced locally too; 0 or undefined means no deadline. */
  timeoutMs?: number;
  signal?: AbortSignal;
  metadata?: Record<string, string | string[]>;
}

/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: AgentError): void;
}

export class TtrpcClient {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextStreamId = 1;
  private closedError: AgentError | undefined;

  constructor(private readonly socket: Duplex) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    // A dialer may hand over a paused socket (the hybrid vsock handshake does).
    socket.resume();
    socket.on("error", (err) =>
      this.fail(new AgentError(Code.Unavailable, `ttrpc: ${err.message}`, { cause: err })),
    );
    socket.once("close", () => this.fail(new AgentError(Code.Unavailable, "ttrpc: closed")));
  }

  /** Sends one request and resolves with the reply payload, or rejects with the status. */
  call(service: string, method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closedError) return Promise.reject(this.closedError);
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    const timeoutMs = options.timeoutMs ?? 0;
    const request = create(RequestSchema, {
      service,
      method,
      payload,
      timeoutNano: BigInt(Math.round(timeoutMs * 1e6)),
      metadata: Object.entries(options.metadata ?? {}).flatMap(([key, v]) =>
        (Array.isArray(v) ? v : [v]).map((value) => ({ key, value })),
      ),
    });
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(new AgentError(Code.Cancelled, "call cancelled")));
      const settle = (fn: () => void) => {
        if (!this.pending.delete(streamId)) return;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      this.pending.set(streamId, {
        resolve: (p) => settle(() => resolve(p)),
        reject: (e) => settle(() => reject(e)),
      });
      // A deadline further off than a timer can hold (about 24.8 days) is left to the server.
      if (timeoutMs > 0 && timeoutMs + 50 <= MAX_TIMER_MS) {
        // A little slack so the server's DEADLINE_EXCEEDED, with its message, normally wins.
        timer = setTimeout(
          () => settle(() => reject(new AgentError(Code.DeadlineExceeded, "context deadline exceeded"))),
          timeoutMs + 50,
        );
      }
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.socket.write(encodeFrame(streamId, FrameType.Request, toBinary(RequestSchema, request)));
    });
  }

  /** Typed call through a generated service descriptor. */
  async unary<I extends DescMessage, O extends DescMessage>(
    service: DescService,
    method: { name: string; input: I; output: O },
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>> {
    const payload = toBinary(method.input, create(method.input, request));
    const reply = await this.call(service.typeName, method.name, payload, options);
    return fromBinary(method.output, reply);
  }

  get callsInFlight(): number {
    return this.pending.size;
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      const { streamId, type } = frame.header;
      const waiter = this.pending.get(streamId);
      if (!waiter || type !== FrameType.Response) continue;
      // This decoder admits every frame, so "refused" never happens here.
      if (frame.kind !== "message") {
        waiter.reject(
          new AgentError(Code.ResourceExhausted, `reply of ${frame.header.length} bytes is too large`),
        );
        continue;
      }
      try {
        const response = fromBinary(ResponseSchema, frame.payload);
        if (response.status && response.status.code !== Code.OK) waiter.reject(fromStatus(response.status));
        else waiter.resolve(response.payload);
      } catch (err) {
        waiter.reject(new AgentError(Code.Internal, `malformed ttrpc response: ${(err as Error).message}`));
      }
    }
  }

  private fail(err: AgentError): void {
    this.closedError ??= err;
    for (const waiter of [...this.pending.values()]) waiter.reject(err);
  }
}
