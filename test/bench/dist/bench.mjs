// test/bench/main.ts
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

// test/bench/agent-rpc.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path3 from "node:path";
import { execa as execa2 } from "execa";

// agent/gen/health_pb.ts
import { enumDesc, fileDesc, messageDesc, serviceDesc } from "@bufbuild/protobuf/codegenv2";
var file_health = /* @__PURE__ */ fileDesc("CgxoZWFsdGgucHJvdG8SBGdycGMiHwoMQ2hlY2tSZXF1ZXN0Eg8KB3NlcnZpY2UYASABKAkiigEKE0hlYWx0aENoZWNrUmVzcG9uc2USNwoGc3RhdHVzGAEgASgOMicuZ3JwYy5IZWFsdGhDaGVja1Jlc3BvbnNlLlNlcnZpbmdTdGF0dXMiOgoNU2VydmluZ1N0YXR1cxILCgdVTktOT1dOEAASCwoHU0VSVklORxABEg8KC05PVF9TRVJWSU5HEAIiQwoUVmVyc2lvbkNoZWNrUmVzcG9uc2USFAoMZ3JwY192ZXJzaW9uGAEgASgJEhUKDWFnZW50X3ZlcnNpb24YAiABKAkyewoGSGVhbHRoEjYKBUNoZWNrEhIuZ3JwYy5DaGVja1JlcXVlc3QaGS5ncnBjLkhlYWx0aENoZWNrUmVzcG9uc2USOQoHVmVyc2lvbhISLmdycGMuQ2hlY2tSZXF1ZXN0GhouZ3JwYy5WZXJzaW9uQ2hlY2tSZXNwb25zZUJgWl5naXRodWIuY29tL2thdGEtY29udGFpbmVycy9rYXRhLWNvbnRhaW5lcnMvc3JjL3J1bnRpbWUvdmlydGNvbnRhaW5lcnMvcGtnL2FnZW50L3Byb3RvY29scy9ncnBjYgZwcm90bzM");
var Health = /* @__PURE__ */ serviceDesc(file_health, 0);

// agent/src/transport/address.ts
var VMADDR_CID_ANY = 4294967295;
var AddressError = class extends Error {
  name = "AddressError";
};
var FORMS = "expected vsock://<cid>:<port>, unix://<path>, unix://@<name>, tcp://<host>:<port>, serial://<port-name> or hvsock://<path>:<port>";
function parseAddress(text, allowed) {
  const match = /^([a-z]+):\/\/(.*)$/.exec(text.trim());
  if (!match) throw new AddressError(`'${text}' is not an address: ${FORMS}`);
  const [, scheme = "", rest = ""] = match;
  const address = parseScheme(scheme, rest, text);
  if (allowed && !allowed.includes(address.scheme)) {
    throw new AddressError(`'${text}': ${address.scheme}:// is not usable here (use ${allowed.join(", ")})`);
  }
  return address;
}
function parseScheme(scheme, rest, text) {
  switch (scheme) {
    case "vsock": {
      const [cidText, portText] = splitLast(rest, text);
      const cid = cidText === "-1" || cidText === "any" ? VMADDR_CID_ANY : parseU32(cidText, "CID", text);
      return { scheme, cid, port: parseU32(portText, "port", text) };
    }
    case "unix": {
      if (!rest) throw new AddressError(`'${text}': the socket path is empty`);
      return rest.startsWith("@") ? { scheme, path: rest.slice(1), abstract: true } : { scheme, path: rest, abstract: false };
    }
    case "tcp": {
      const [hostText, portText] = splitLast(rest, text);
      const host = hostText.replace(/^\[(.*)\]$/, "$1");
      const port = parseU32(portText, "port", text);
      if (port > 65535) throw new AddressError(`'${text}': TCP port ${port} is above 65535`);
      return { scheme, host: host || "127.0.0.1", port };
    }
    case "serial": {
      if (!rest) throw new AddressError(`'${text}': the virtio-serial port name is empty`);
      return { scheme, name: rest };
    }
    case "hvsock": {
      const [path4, portText] = splitLast(rest, text);
      if (!path4) throw new AddressError(`'${text}': the hybrid vsock socket path is empty`);
      return { scheme, path: path4, port: parseU32(portText, "port", text) };
    }
    default:
      throw new AddressError(`'${text}': unknown scheme '${scheme}://'; ${FORMS}`);
  }
}
function splitLast(rest, text) {
  const i = rest.lastIndexOf(":");
  if (i < 0) throw new AddressError(`'${text}': missing ':<port>'`);
  return [rest.slice(0, i), rest.slice(i + 1)];
}
function parseU32(value, what, text) {
  if (!/^\d+$/.test(value)) throw new AddressError(`'${text}': ${what} '${value}' is not a number`);
  const n = Number(value);
  if (n > 4294967295) throw new AddressError(`'${text}': ${what} ${value} is out of range`);
  return n;
}
function formatAddress(address) {
  switch (address.scheme) {
    case "vsock":
      return `vsock://${address.cid === VMADDR_CID_ANY ? "-1" : address.cid}:${address.port}`;
    case "unix":
      return `unix://${address.abstract ? "@" : ""}${address.path}`;
    case "tcp":
      return `tcp://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
    case "serial":
      return `serial://${address.name}`;
    case "hvsock":
      return `hvsock://${address.path}:${address.port}`;
  }
}
function unixSocketPath(address) {
  return address.abstract ? `\0${address.path}` : address.path;
}

// agent/src/transport/dial.ts
import net2 from "node:net";

// agent/src/native/addon.ts
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
var FILE_NAME = "kata_native.node";
var DEV_PATH = join("agent", "native", "build", FILE_NAME);
var loaded;
function native() {
  loaded ??= load(locateNative());
  return loaded;
}
function locateNative() {
  const explicit = process.env.KATA_AGENT_NATIVE;
  if (explicit) {
    if (existsSync(explicit)) return resolve(explicit);
    throw new Error(`KATA_AGENT_NATIVE=${explicit} does not exist; build it with \`npm run build:native\``);
  }
  const candidates = [];
  const main2 = process.argv[1];
  if (main2) candidates.push(join(dirname(resolve(main2)), FILE_NAME));
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    candidates.push(join(dir, DEV_PATH));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((path4) => existsSync(path4));
  if (found !== void 0) return found;
  throw new Error(
    `${FILE_NAME} not found; run \`npm run build:native\` or set KATA_AGENT_NATIVE. Looked in:
  ` + candidates.join("\n  ")
  );
}
function load(path4) {
  const addon = createRequire(import.meta.url)(path4);
  const missing = REQUIRED.filter((name) => typeof addon[name] !== "function");
  if (missing.length > 0) {
    throw new Error(`${path4} lacks ${missing.join(", ")}; rebuild it with \`npm run build:native\``);
  }
  return addon;
}
var REQUIRED = [
  "vsockListen",
  "vsockConnect",
  "setChildSubreaper",
  "waitpid",
  "zombieChildren",
  "pipe",
  "setPipeSize",
  "recvFd",
  "setWinsize",
  "openPty",
  "setsid",
  "setControllingTty",
  "mount",
  "umount",
  "sethostname",
  "reboot",
  "settimeofday",
  "swapon",
  "addRandomEntropy"
];

// agent/src/native/fd-stream.ts
import { readFileSync } from "node:fs";
import net from "node:net";
import { getSystemErrorMap } from "node:util";
var pipeWrap;
function binding() {
  if (pipeWrap === void 0) {
    const legacy = process;
    const saved = process.noDeprecation;
    process.noDeprecation = true;
    try {
      pipeWrap = legacy.binding("pipe_wrap");
    } finally {
      process.noDeprecation = saved;
    }
  }
  return pipeWrap;
}
function uvError(status, syscall) {
  const [code, description] = getSystemErrorMap().get(status) ?? ["UNKNOWN", "unknown error"];
  return Object.assign(new Error(`${syscall}: ${code} (${description})`), { code, errno: status, syscall });
}
function accessMode(fd) {
  let flags = "2";
  try {
    flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? flags;
  } catch {
  }
  const mode = Number.parseInt(flags, 8) & 3;
  return { readable: mode !== 1, writable: mode !== 0 };
}
function socketFromFd(fd) {
  const { Pipe, constants } = binding();
  const handle = new Pipe(constants.SOCKET);
  const status = handle.open(fd);
  if (status !== 0) {
    handle.close();
    throw uvError(status, "uv_pipe_open");
  }
  const options = { handle, ...accessMode(fd) };
  return new net.Socket(options);
}

// agent/src/transport/dial.ts
var DialError = class extends Error {
  name = "DialError";
};
async function dial(address, options = {}) {
  const timeoutMs = options.timeoutMs ?? 3e3;
  const retryMs = options.retryMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (; ; ) {
    options.signal?.throwIfAborted();
    try {
      return await dialOnce(address, Math.max(100, deadline - Date.now()));
    } catch (err) {
      lastError = err;
      if (err instanceof DialError || Date.now() + retryMs >= deadline) break;
      await new Promise((resolve2) => setTimeout(resolve2, retryMs));
    }
  }
  const target = formatAddress(address);
  throw new DialError(
    `cannot connect to ${target} within ${timeoutMs} ms: ${lastError?.message ?? "unknown error"} (is the agent running and listening on that address?)`,
    { cause: lastError }
  );
}
async function dialOnce(address, timeoutMs) {
  switch (address.scheme) {
    case "unix":
      return connectNet({ path: unixSocketPath(address) });
    case "tcp":
      return connectNet({ host: address.host, port: address.port });
    case "vsock":
      return socketFromFd(native().vsockConnect(address.cid, address.port, Math.min(timeoutMs, 2e3)));
    case "hvsock": {
      const socket = await connectNet({ path: address.path });
      return hybridHandshake(socket, address.port, Math.min(timeoutMs, 1e4));
    }
    case "serial":
      throw new DialError(
        "serial:// is an agent-side address; connect to the host end of the port (a unix:// socket)"
      );
  }
}
function connectNet(target) {
  return new Promise((resolve2, reject) => {
    const socket = net2.connect(target);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve2(socket);
    });
    socket.once("error", reject);
  });
}
function hybridHandshake(socket, port, timeoutMs) {
  return new Promise((resolve2, reject) => {
    let line = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new Error(`no reply to 'CONNECT ${port}' within ${timeoutMs} ms`)),
      timeoutMs
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("close", onClose);
    };
    const fail = (err) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onClose = () => fail(new Error(`the VMM closed the socket after 'CONNECT ${port}'`));
    const onData = (chunk) => {
      line = Buffer.concat([line, chunk]);
      const nl = line.indexOf(10);
      if (nl < 0) {
        if (line.length > 512) fail(new Error("hybrid vsock reply line is too long"));
        return;
      }
      const reply = line.subarray(0, nl).toString("utf8");
      if (!reply.startsWith("OK")) {
        fail(new DialError(`VMM refused 'CONNECT ${port}': ${JSON.stringify(reply)}`));
        return;
      }
      cleanup();
      socket.pause();
      const rest = line.subarray(nl + 1);
      if (rest.length) socket.unshift(rest);
      resolve2(socket);
    };
    socket.on("data", onData);
    socket.on("error", fail);
    socket.on("close", onClose);
    socket.write(`CONNECT ${port}
`);
  });
}

// agent/src/ttrpc/client.ts
import { create as create2, fromBinary, toBinary } from "@bufbuild/protobuf";

// agent/gen/ttrpc/ttrpc_pb.ts
import { fileDesc as fileDesc2, messageDesc as messageDesc2 } from "@bufbuild/protobuf/codegenv2";
import { file_google_protobuf_any } from "@bufbuild/protobuf/wkt";
var file_ttrpc_ttrpc = /* @__PURE__ */ fileDesc2("ChF0dHJwYy90dHJwYy5wcm90bxIFdHRycGMidAoHUmVxdWVzdBIPCgdzZXJ2aWNlGAEgASgJEg4KBm1ldGhvZBgCIAEoCRIPCgdwYXlsb2FkGAMgASgMEhQKDHRpbWVvdXRfbmFubxgEIAEoAxIhCghtZXRhZGF0YRgFIAMoCzIPLnR0cnBjLktleVZhbHVlIiYKCEtleVZhbHVlEgsKA2tleRgBIAEoCRINCgV2YWx1ZRgCIAEoCSI6CghSZXNwb25zZRIdCgZzdGF0dXMYASABKAsyDS50dHJwYy5TdGF0dXMSDwoHcGF5bG9hZBgCIAEoDCJOCgZTdGF0dXMSDAoEY29kZRgBIAEoBRIPCgdtZXNzYWdlGAIgASgJEiUKB2RldGFpbHMYAyADKAsyFC5nb29nbGUucHJvdG9idWYuQW55YgZwcm90bzM", [file_google_protobuf_any]);
var RequestSchema = /* @__PURE__ */ messageDesc2(file_ttrpc_ttrpc, 0);
var ResponseSchema = /* @__PURE__ */ messageDesc2(file_ttrpc_ttrpc, 2);
var StatusSchema = /* @__PURE__ */ messageDesc2(file_ttrpc_ttrpc, 3);

// agent/src/core/code.ts
var Code = /* @__PURE__ */ ((Code2) => {
  Code2[Code2["OK"] = 0] = "OK";
  Code2[Code2["Cancelled"] = 1] = "Cancelled";
  Code2[Code2["Unknown"] = 2] = "Unknown";
  Code2[Code2["InvalidArgument"] = 3] = "InvalidArgument";
  Code2[Code2["DeadlineExceeded"] = 4] = "DeadlineExceeded";
  Code2[Code2["NotFound"] = 5] = "NotFound";
  Code2[Code2["AlreadyExists"] = 6] = "AlreadyExists";
  Code2[Code2["PermissionDenied"] = 7] = "PermissionDenied";
  Code2[Code2["ResourceExhausted"] = 8] = "ResourceExhausted";
  Code2[Code2["FailedPrecondition"] = 9] = "FailedPrecondition";
  Code2[Code2["Aborted"] = 10] = "Aborted";
  Code2[Code2["OutOfRange"] = 11] = "OutOfRange";
  Code2[Code2["Unimplemented"] = 12] = "Unimplemented";
  Code2[Code2["Internal"] = 13] = "Internal";
  Code2[Code2["Unavailable"] = 14] = "Unavailable";
  Code2[Code2["DataLoss"] = 15] = "DataLoss";
  Code2[Code2["Unauthenticated"] = 16] = "Unauthenticated";
  return Code2;
})(Code || {});
function codeName(code) {
  const name = Code[code];
  return name === void 0 ? `CODE_${code}` : name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

// agent/src/core/error.ts
var AgentError = class _AgentError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
  }
  code;
  name = "AgentError";
  /** "NOT_FOUND: Process not found: invalid exec id", the form errors are shown to users in. */
  toString() {
    return `${codeName(this.code)}: ${this.message}`;
  }
  /** Wraps any thrown value: AgentErrors pass through, aborts map to their codes, the rest is Internal. */
  static from(err, fallback = 13 /* Internal */) {
    if (err instanceof _AgentError) return err;
    if (err instanceof Error) {
      if (err.name === "TimeoutError")
        return new _AgentError(4 /* DeadlineExceeded */, "timeout", { cause: err });
      if (err.name === "AbortError")
        return new _AgentError(1 /* Cancelled */, err.message || "cancelled", { cause: err });
      const code = systemErrorCode(err);
      return new _AgentError(code ?? fallback, err.message, { cause: err });
    }
    return new _AgentError(fallback, String(err));
  }
};
function systemErrorCode(err) {
  switch (err.code) {
    case "ENOENT":
      return 5 /* NotFound */;
    case "EACCES":
    case "EPERM":
      return 7 /* PermissionDenied */;
    case "EEXIST":
      return 6 /* AlreadyExists */;
    default:
      return void 0;
  }
}

// agent/src/ttrpc/frame.ts
var HEADER_LENGTH = 10;
var MESSAGE_LENGTH_MAX = 4 << 20;
function encodeFrame(streamId, type, payload, flags = 0) {
  if (payload.length > MESSAGE_LENGTH_MAX) {
    throw new RangeError(
      `message length ${payload.length} exceeds maximum message size of ${MESSAGE_LENGTH_MAX}`
    );
  }
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(streamId, 4);
  frame[8] = type;
  frame[9] = flags;
  frame.set(payload, HEADER_LENGTH);
  return frame;
}
function readHeader(buf, at) {
  return {
    length: buf.readUInt32BE(at),
    streamId: buf.readUInt32BE(at + 4),
    type: buf[at + 8] ?? 0,
    flags: buf[at + 9] ?? 0
  };
}
var FrameDecoder = class {
  chunks = [];
  size = 0;
  skipping = 0;
  /** Bytes held back waiting for the rest of a frame. */
  get buffered() {
    return this.size;
  }
  push(chunk) {
    if (this.skipping > 0) {
      const skip = Math.min(this.skipping, chunk.length);
      this.skipping -= skip;
      chunk = chunk.subarray(skip);
    }
    if (chunk.length) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames = [];
    while (this.size >= HEADER_LENGTH) {
      const header = readHeader(this.peek(HEADER_LENGTH), 0);
      if (header.length > MESSAGE_LENGTH_MAX) {
        this.take(HEADER_LENGTH);
        const skip = Math.min(header.length, this.size);
        this.take(skip);
        this.skipping = header.length - skip;
        frames.push({ kind: "oversized", header });
        continue;
      }
      if (this.size < HEADER_LENGTH + header.length) break;
      this.take(HEADER_LENGTH);
      frames.push({ kind: "message", header, payload: this.take(header.length) });
    }
    return frames;
  }
  /** The first n buffered bytes, without consuming them. */
  peek(n) {
    const first = this.chunks[0];
    if (first.length >= n) return first;
    const parts = [];
    let have = 0;
    for (const chunk of this.chunks) {
      parts.push(chunk);
      have += chunk.length;
      if (have >= n) break;
    }
    return Buffer.concat(parts, have);
  }
  /** Removes and returns the first n buffered bytes. */
  take(n) {
    this.size -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0];
      const part = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, part);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    return out;
  }
};

// agent/src/ttrpc/status.ts
import { create } from "@bufbuild/protobuf";
var OK_STATUS = create(StatusSchema, { code: 0 /* OK */ });
function fromStatus(status) {
  const code = status.code in Code ? status.code : 2 /* Unknown */;
  return new AgentError(code, status.message);
}

// agent/src/ttrpc/client.ts
var TtrpcClient = class {
  constructor(socket) {
    this.socket = socket;
    socket.on("data", (chunk) => this.onData(chunk));
    socket.resume();
    socket.on(
      "error",
      (err) => this.fail(new AgentError(14 /* Unavailable */, `ttrpc: ${err.message}`, { cause: err }))
    );
    socket.once("close", () => this.fail(new AgentError(14 /* Unavailable */, "ttrpc: closed")));
  }
  socket;
  decoder = new FrameDecoder();
  pending = /* @__PURE__ */ new Map();
  nextStreamId = 1;
  closedError;
  /** Sends one request and resolves with the reply payload, or rejects with the status. */
  call(service, method, payload, options = {}) {
    if (this.closedError) return Promise.reject(this.closedError);
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    const timeoutMs = options.timeoutMs ?? 0;
    const request = create2(RequestSchema, {
      service,
      method,
      payload,
      timeoutNano: BigInt(Math.round(timeoutMs * 1e6)),
      metadata: Object.entries(options.metadata ?? {}).flatMap(
        ([key, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ key, value }))
      )
    });
    return new Promise((resolve2, reject) => {
      let timer;
      const onAbort = () => settle(() => reject(new AgentError(1 /* Cancelled */, "call cancelled")));
      const settle = (fn) => {
        if (!this.pending.delete(streamId)) return;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      this.pending.set(streamId, {
        resolve: (p) => settle(() => resolve2(p)),
        reject: (e) => settle(() => reject(e))
      });
      if (timeoutMs > 0) {
        timer = setTimeout(
          () => settle(() => reject(new AgentError(4 /* DeadlineExceeded */, "context deadline exceeded"))),
          timeoutMs + 50
        );
      }
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.socket.write(encodeFrame(streamId, 1 /* Request */, toBinary(RequestSchema, request)));
    });
  }
  /** Typed call through a generated service descriptor. */
  async unary(service, method, request, options) {
    const payload = toBinary(method.input, create2(method.input, request));
    const reply = await this.call(service.typeName, method.name, payload, options);
    return fromBinary(method.output, reply);
  }
  get callsInFlight() {
    return this.pending.size;
  }
  close() {
    this.socket.end();
    this.socket.destroy();
  }
  onData(chunk) {
    for (const frame of this.decoder.push(chunk)) {
      const { streamId, type } = frame.header;
      const waiter = this.pending.get(streamId);
      if (!waiter || type !== 2 /* Response */) continue;
      if (frame.kind === "oversized") {
        waiter.reject(
          new AgentError(8 /* ResourceExhausted */, `reply of ${frame.header.length} bytes is too large`)
        );
        continue;
      }
      try {
        const response = fromBinary(ResponseSchema, frame.payload);
        if (response.status && response.status.code !== 0 /* OK */) waiter.reject(fromStatus(response.status));
        else waiter.resolve(response.payload);
      } catch (err) {
        waiter.reject(new AgentError(13 /* Internal */, `malformed ttrpc response: ${err.message}`));
      }
    }
  }
  fail(err) {
    this.closedError ??= err;
    for (const waiter of [...this.pending.values()]) waiter.reject(err);
  }
};
function serviceClient(client, service) {
  const stub = {};
  for (const method of service.methods) {
    stub[method.localName] = (request, options) => client.unary(service, method, request, options);
  }
  return stub;
}

// test/helpers/peers.ts
import { existsSync as existsSync2 } from "node:fs";
import path from "node:path";
import { fileURLToPath as fileURLToPath2 } from "node:url";
import { execa } from "execa";
var repoRoot = fileURLToPath2(new URL("../..", import.meta.url));
var goBuildScript = path.join(repoRoot, "test/peers/go/build.sh");
var pythonScript = path.join(repoRoot, "test/peers/python/grpc_client.py");
var DEFAULT_RUN_TIMEOUT_MS = 6e4;
var goPeers;
function buildGoPeers() {
  goPeers ??= (async () => {
    const r = await execa("bash", [goBuildScript], { reject: false, stdin: "ignore", timeout: 6e5 });
    if (r.exitCode !== 0) {
      throw new Error(`test/peers/go/build.sh failed (exit ${r.exitCode}):
${r.stderr}`);
    }
    const json = parseObject(lastLine(r.stdout), "test/peers/go/build.sh");
    const { client, server } = json;
    if (typeof client !== "string" || typeof server !== "string" || !existsSync2(client) || !existsSync2(server)) {
      throw new Error(`test/peers/go/build.sh printed unexpected output: ${r.stdout}`);
    }
    return { client, server };
  })();
  goPeers.catch(() => {
    goPeers = void 0;
  });
  return goPeers;
}
async function runGoClient(addr, args, opts = {}) {
  const { client } = await buildGoPeers();
  const flags = ["--addr", addr];
  if (opts.timeout !== void 0) flags.push("--timeout", opts.timeout);
  if (opts.grace !== void 0) flags.push("--grace", opts.grace);
  return runPeer(client, [...flags, ...args], opts);
}
async function runPeer(file, args, opts) {
  const name = path.basename(args[0]?.endsWith(".py") ? args[0] : file);
  const r = await execa(file, args, {
    reject: false,
    stdin: "ignore",
    timeout: opts.killAfterMs ?? DEFAULT_RUN_TIMEOUT_MS
  });
  if (r.exitCode === void 0) {
    throw new Error(`${name} ${args.join(" ")} did not exit normally (${r.shortMessage})
${r.stderr}`);
  }
  const json = parseObject(r.stdout, `${name} ${args.join(" ")}`, r.stderr);
  return { exitCode: r.exitCode, json, error: peerError(json.error), stderr: r.stderr };
}
function asBenchResult(json) {
  const keys = ["calls", "seconds", "callsPerSec", "p50us", "p99us", "meanus"];
  const out = {};
  for (const k of keys) {
    const v = json[k];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`bench output: ${k} is not a finite number: ${JSON.stringify(json)}`);
    }
    out[k] = v;
  }
  return out;
}
function peerError(v) {
  if (v === void 0) return void 0;
  if (!isObject(v) || typeof v.code !== "string" || typeof v.codeNumber !== "number" || typeof v.message !== "string") {
    throw new Error(`malformed error object from peer: ${JSON.stringify(v)}`);
  }
  const err = { code: v.code, codeNumber: v.codeNumber, message: v.message };
  if (typeof v.local === "boolean") err.local = v.local;
  return err;
}
function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function lastLine(text) {
  return text.trimEnd().split("\n").at(-1) ?? "";
}
function parseObject(text, what, stderr = "") {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${what}: stdout is not one JSON object:
${text}
stderr:
${stderr}`);
  }
  if (!isObject(v)) throw new Error(`${what}: stdout is not a JSON object: ${text}`);
  return v;
}

// test/bench/procs.ts
import { readdirSync, readFileSync as readFileSync2 } from "node:fs";
import path2 from "node:path";
import { fileURLToPath as fileURLToPath3 } from "node:url";
var repoRoot2 = fileURLToPath3(new URL("../..", import.meta.url));
function memoryOf(pid) {
  const status = readFileSync2(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { vmRssKb: kb("VmRSS"), rssAnonKb: kb("RssAnon"), rssFileKb: kb("RssFile") };
}
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
var sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function shippedNodeFlags() {
  const wrapper = readFileSync2(path2.join(repoRoot2, "rootfs/common/usr/bin/kata-agent"), "utf8");
  const exec = wrapper.split("\n").find((l) => /^\s*exec\s+\S*node\b/.test(l));
  if (!exec) throw new Error("rootfs/common/usr/bin/kata-agent has no 'exec node ...' line");
  return exec.trim().split(/\s+/).filter((w) => w.startsWith("--"));
}

// test/bench/agent-rpc.ts
var agentBundle = path3.join(repoRoot2, "agent/dist/kata-agent.mjs");
function startAgent(dir, name) {
  const address = `unix://${path3.join(dir, `${name}.sock`)}`;
  const child = execa2(process.execPath, [...shippedNodeFlags(), agentBundle, "--cmdline", "/dev/null"], {
    env: { KATA_AGENT_SERVER_ADDR: address, KATA_AGENT_LOG_LEVEL: "warn", KATA_AGENT_RUN_DIR: path3.join(dir, name) },
    reject: false,
    stdio: "ignore"
  });
  return { address, child };
}
async function firstCheck(address, since, limitMs = 2e4) {
  const target = parseAddress(address);
  for (; ; ) {
    try {
      const socket = await dial(target, { timeoutMs: 1, retryMs: 1 });
      const client = new TtrpcClient(socket);
      await serviceClient(client, Health).check({});
      client.close();
      return performance.now() - since;
    } catch {
      if (performance.now() - since > limitMs) throw new Error(`no answer from ${address} in ${limitMs} ms`);
      await sleep(1);
    }
  }
}
async function serve(kind, dir) {
  if (kind === "ours") {
    const { address: address2, child: child2 } = startAgent(dir, "agent");
    await firstCheck(address2, performance.now());
    return { address: address2, pid: child2.pid, stop: async () => void (child2.kill("SIGTERM"), await child2) };
  }
  const { server } = await buildGoPeers();
  const address = `unix://${path3.join(dir, "go.sock")}`;
  const child = execa2(server, ["--addr", address], { reject: false, stdio: "ignore" });
  await firstCheck(address, performance.now());
  return { address, pid: child.pid, stop: async () => void (child.kill("SIGTERM"), await child) };
}
async function coldStart(dir, runs) {
  const agent = [];
  const node = [];
  const go = [];
  const { server } = await buildGoPeers();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const { address, child } = startAgent(dir, `cold${i}`);
    agent.push(await firstCheck(address, t0));
    child.kill("SIGTERM");
    await child;
    const t1 = performance.now();
    await execa2(process.execPath, [...shippedNodeFlags(), "-e", "0"]);
    node.push(performance.now() - t1);
    const goAddress = `unix://${path3.join(dir, `go-cold${i}.sock`)}`;
    const t2 = performance.now();
    const goChild = execa2(server, ["--addr", goAddress], { reject: false, stdio: "ignore" });
    go.push(await firstCheck(goAddress, t2));
    goChild.kill("SIGTERM");
    await goChild;
  }
  return { agent: median(agent), node: median(node), go: median(go) };
}
async function idleMemory(pid) {
  await sleep(2e3);
  return memoryOf(pid);
}
async function benchAgentRpc(options) {
  const dir = mkdtempSync(path3.join(tmpdir(), "bench-rpc-"));
  try {
    const ours = await serve("ours", dir);
    const go = await serve("go", dir);
    const oursIdle = await idleMemory(ours.pid);
    const goIdle = memoryOf(go.pid);
    const bareNode = execa2(process.execPath, [...shippedNodeFlags(), "-e", "setInterval(() => {}, 1000)"], {
      reject: false
    });
    await sleep(1500);
    const nodeIdle = memoryOf(bareNode.pid);
    bareNode.kill();
    const samples = { ours: [], go: [] };
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 ? ["go", "ours"] : ["ours", "go"];
      for (const kind of order) {
        const server = kind === "ours" ? ours : go;
        const r = await runGoClient(server.address, ["bench", "--n", String(options.calls)], { killAfterMs: 6e5 });
        samples[kind].push(asBenchResult(r.json));
      }
    }
    const afterLoad = memoryOf(ours.pid);
    await ours.stop();
    await go.stop();
    const cold = await coldStart(dir, options.coldRuns);
    const med = (kind, key) => median(samples[kind].map((s) => s[key]));
    const goRef = (key) => ({ name: "Go ttrpc server", value: med("go", key) });
    return {
      title: `Agent API over ttrpc (${options.calls} sequential Health.Check calls on one Unix socket connection, containerd's Go client, median of ${options.rounds} rounds)`,
      figures: [
        { name: "time per call (mean)", unit: "us", ours: med("ours", "meanus"), reference: goRef("meanus"), goal: { of: "ratio", max: 1.5 } },
        { name: "time per call (p50)", unit: "us", ours: med("ours", "p50us"), reference: goRef("p50us") },
        { name: "time per call (p99)", unit: "us", ours: med("ours", "p99us"), reference: goRef("p99us") },
        { name: "calls per second", unit: "calls/s", ours: med("ours", "callsPerSec"), reference: goRef("callsPerSec") },
        {
          name: "cold start: spawn to first answered Check",
          unit: "ms",
          ours: cold.agent,
          reference: { name: "node -e 0, spawn to exit", value: cold.node },
          goal: { of: "ours", max: 150 },
          note: `Go ttrpc server: ${cold.go.toFixed(1)} ms; median of ${options.coldRuns} runs`
        },
        {
          name: "idle RssAnon",
          unit: "MB",
          ours: oursIdle.rssAnonKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.rssAnonKb / 1024 },
          goal: { of: "ours", max: 15 },
          note: `Go ttrpc server: ${(goIdle.rssAnonKb / 1024).toFixed(1)} MB anonymous; upstream Rust agent about 1.2 MB (published)`
        },
        {
          name: "idle VmRSS",
          unit: "MB",
          ours: oursIdle.vmRssKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.vmRssKb / 1024 },
          goal: { of: "ours", max: 50 },
          note: `RssFile ${(oursIdle.rssFileKb / 1024).toFixed(1)} MB (mostly the node binary's pages), bare node ${(nodeIdle.rssFileKb / 1024).toFixed(1)} MB; Go server VmRSS ${(goIdle.vmRssKb / 1024).toFixed(1)} MB`
        },
        {
          name: "RssAnon after the round trips",
          unit: "MB",
          ours: afterLoad.rssAnonKb / 1024,
          note: `VmRSS ${(afterLoad.vmRssKb / 1024).toFixed(1)} MB after ${options.rounds * options.calls} calls (heap not yet collected)`
        }
      ]
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// test/bench/report.ts
function ratio(f) {
  return f.reference && f.reference.value > 0 ? f.ours / f.reference.value : void 0;
}
function meetsGoal(f) {
  if (!f.goal) return void 0;
  const value = f.goal.of === "ratio" ? ratio(f) : f.ours;
  if (value === void 0) return void 0;
  return (f.goal.max === void 0 || value <= f.goal.max) && (f.goal.min === void 0 || value >= f.goal.min);
}
var fmt = (n) => Math.abs(n) >= 1e3 ? n.toFixed(0) : Math.abs(n) >= 100 ? n.toFixed(1) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(3);
function renderSection(section) {
  const rows = section.figures.map((f) => {
    const r = ratio(f);
    const goal = f.goal ? `${f.goal.of === "ratio" ? "ratio" : "ours"} ${f.goal.max !== void 0 ? `<= ${f.goal.max}` : `>= ${f.goal.min}`}` : "";
    const ok = meetsGoal(f);
    return [
      f.name,
      `${fmt(f.ours)} ${f.unit}`,
      f.reference ? `${fmt(f.reference.value)} ${f.unit} (${f.reference.name})` : "-",
      r === void 0 ? "-" : `${r.toFixed(2)}x`,
      goal ? `${goal} ${ok ? "met" : "MISSED"}` : ""
    ];
  });
  const header = ["figure", "ours", "reference (same run)", "ratio", "goal"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const notes = section.figures.filter((f) => f.note).map((f) => `  * ${f.name}: ${f.note}`);
  return [`## ${section.title}`, line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ...notes, ""].join(
    "\n"
  );
}

// test/bench/main.ts
var sections = {
  rpc: (quick) => benchAgentRpc({ calls: quick ? 2e3 : 2e4, rounds: quick ? 1 : 3, coldRuns: quick ? 3 : 10 })
};
async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: { only: { type: "string" }, json: { type: "string" }, quick: { type: "boolean" } }
  });
  const wanted = values.only ? values.only.split(",") : Object.keys(sections);
  const unknown = wanted.filter((name) => !(name in sections));
  if (unknown.length) {
    process.stderr.write(`bench: unknown section(s) ${unknown.join(", ")}; known: ${Object.keys(sections).join(", ")}
`);
    return 2;
  }
  const results = [];
  process.stdout.write(`# kata-guest-toolkit bench (${(/* @__PURE__ */ new Date()).toISOString()}, node ${process.version})

`);
  for (const name of wanted) {
    process.stderr.write(`bench: running ${name}...
`);
    const section = await sections[name](values.quick ?? false);
    results.push(section);
    process.stdout.write(`${renderSection(section)}
`);
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}
`);
  return 0;
}
export {
  main
};
