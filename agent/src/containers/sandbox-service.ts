// CreateSandbox, DestroySandbox and the OOM long-poll: the pod as a whole. Pod-wide storages are
// mounted before the sandbox is set up and released if that fails; destroying the sandbox removes
// every container first.
import { mkdirSync } from "node:fs";
import type { CreateSandboxRequest } from "../../gen/agent_pb.js";
import { PreconditionError } from "../core/domain-error.js";
import { SANDBOX_OWNER } from "../storage/index.js";
import type { ContainerService } from "./container-service.js";
import type { Pod } from "./pod.js";

export class SandboxService {
  constructor(
    private readonly pod: Pod,
    private readonly containers: ContainerService,
    /** Called after DestroySandbox has torn everything down: the agent then stops. */
    private readonly onDestroyed: () => void = () => {},
  ) {}

  async create(req: CreateSandboxRequest, signal: AbortSignal): Promise<void> {
    const { registry, sandbox, options } = this.pod;
    if (registry.size) {
      throw new PreconditionError("CreateSandbox: containers already exist; call DestroySandbox first");
    }
    mkdirSync(options.runDir, { recursive: true });
    await options.storage.add(req.storages, SANDBOX_OWNER, signal);
    try {
      await sandbox.create(req, signal);
    } catch (err) {
      await options.storage.release(SANDBOX_OWNER);
      throw err;
    }
  }

  async destroy(): Promise<void> {
    const { oom, sandbox, options, log } = this.pod;
    oom.close();
    await this.containers.removeAll();
    await options.storage.releaseAll();
    sandbox.created = false;
    sandbox.owner = undefined;
    log.info("sandbox destroyed", { sandbox: sandbox.id });
    this.onDestroyed();
  }

  /** GetOOMEvent: the id of the next container the OOM killer hit, waiting for one. */
  nextOomEvent(signal: AbortSignal): Promise<string> {
    return this.pod.oom.next(signal);
  }
}
