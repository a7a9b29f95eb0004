// One container: its bundle, its processes (the init is registered under the container id),
// its cgroups, and where it is in its life.
import { NotFoundError } from "../core/domain-error.js";
import type { ContainerProcess } from "../processes/process.js";
import type { CgroupPaths } from "./cgroups.js";
import type { RuntimeSpec } from "./runtime-spec.js";

export type ContainerState = "created" | "running" | "paused" | "stopped";

export class Container {
  state: ContainerState = "created";
  readonly processes = new Map<string, ContainerProcess>();
  /** Stops OOM watching (after one last look at the counter). */
  stopOomWatch: () => void = () => {};
  /** Set while RemoveContainer runs, so concurrent removals share it. */
  removal: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly bundle: string,
    readonly spec: RuntimeSpec,
    readonly cgroups: CgroupPaths,
    readonly initPid: number,
  ) {}

  /** Read through a getter so TypeScript does not narrow it across awaits. */
  get stopped(): boolean {
    return this.state === "stopped";
  }

  /**
   * The process an RPC names: "" and the container id both mean the init process. A process
   * already waited for is only found by output reads (`forOutput`), until its output is read.
   */
  process(execId: string, forOutput = false): ContainerProcess {
    const key = execId === "" ? this.id : execId;
    const found = this.processes.get(key);
    if (found && (!found.waited || forOutput)) return found;
    throw new NotFoundError(
      "process",
      key === this.id
        ? "Process not found: init process missing (already waited for)"
        : `Process not found: invalid exec id ${JSON.stringify(execId)} in container ${this.id}`,
    );
  }
}

export class ContainerRegistry {
  private readonly containers = new Map<string, Container>();

  add(container: Container): void {
    this.containers.set(container.id, container);
  }

  has(id: string): boolean {
    return this.containers.has(id);
  }

  /** The container, or a NotFoundError in upstream's words ("Invalid container id", or `message`). */
  get(id: string, message = "Invalid container id"): Container {
    const found = this.containers.get(id);
    if (found) return found;
    const known = [...this.containers.keys()];
    throw new NotFoundError(
      "container",
      `${message} ${JSON.stringify(id)}: no such container (${known.length ? `known: ${known.join(", ")}` : "none exist"})`,
    );
  }

  remove(id: string): void {
    this.containers.delete(id);
  }

  all(): Container[] {
    return [...this.containers.values()];
  }

  get size(): number {
    return this.containers.size;
  }
}
