// The sandbox (the pod): created once by CreateSandbox, it holds the pod-wide storages, the
// hostname and DNS configuration, the guest hooks, and which container owns the namespaces.
import { accessSync, constants, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CreateSandboxRequest } from "../../gen/agent_pb.js";
import { InvalidInputError } from "../core/domain-error.js";
import type { Logger } from "../log.js";
import { native } from "../native/index.js";
import { isModuleName, modprobe } from "../tools/modprobe.js";
import { ensureOk } from "../tools/tool.js";
import type { HookName, RuntimeHook } from "./runtime-spec.js";

export interface GuestHooks {
  prestart: RuntimeHook[];
  poststart: RuntimeHook[];
  poststop: RuntimeHook[];
}

export class Sandbox {
  id = "";
  hostname = "";
  created = false;
  /** First container's id and init pid: its namespaces are the pod's. */
  owner: { containerId: string; pid: number } | undefined;
  hooks: GuestHooks = { prestart: [], poststart: [], poststop: [] };

  constructor(
    private readonly runDir: string,
    /** Acting on the guest itself (hostname, /etc/resolv.conf, modules) is only safe inside a VM. */
    private readonly inGuest: boolean,
    private readonly log: Logger,
  ) {}

  get dir(): string {
    return path.join(this.runDir, "sandbox");
  }

  async create(req: CreateSandboxRequest, signal: AbortSignal): Promise<void> {
    this.id = req.sandboxId || "sandbox";
    this.hostname = req.hostname.slice(0, 64);
    mkdirSync(this.dir, { recursive: true });
    for (const module of req.kernelModules) await this.loadModule(module.name, module.parameters, signal);
    if (req.dns.length) this.writeResolvConf(req.dns);
    if (this.inGuest && this.hostname) native().sethostname(this.hostname);
    this.hooks = req.guestHookPath
      ? scanHooks(req.guestHookPath)
      : { prestart: [], poststart: [], poststop: [] };
    this.created = true;
    this.log.info("sandbox created", { sandbox: this.id, hostname: this.hostname, dns: req.dns.length });
  }

  /** Guest hooks are added to each container's spec (prestart, poststart, poststop). */
  mergeHooks(
    hooks: Partial<Record<HookName, RuntimeHook[]>> | undefined,
  ): Partial<Record<HookName, RuntimeHook[]>> {
    const merged = { ...(hooks ?? {}) };
    for (const name of ["prestart", "poststart", "poststop"] as const) {
      if (this.hooks[name].length) merged[name] = [...(merged[name] ?? []), ...this.hooks[name]];
    }
    return merged;
  }

  private async loadModule(name: string, parameters: string[], signal: AbortSignal): Promise<void> {
    if (!isModuleName(name))
      throw new InvalidInputError(`invalid kernel module name ${JSON.stringify(name)}`);
    if (!this.inGuest) {
      this.log.warn("not loading a kernel module outside a guest VM", { module: name });
      return;
    }
    ensureOk(await modprobe(name, parameters, { signal }), `load kernel module ${name}`);
  }

  /** The pod's resolv.conf; inside the guest it also replaces /etc/resolv.conf (a bind mount). */
  private writeResolvConf(lines: string[]): void {
    const file = path.join(this.dir, "resolv.conf");
    writeFileSync(file, `${lines.join("\n")}\n`);
    if (!this.inGuest) return;
    try {
      statSync("/etc/resolv.conf");
    } catch {
      return;
    }
    const n = native();
    n.mount(file, "/etc/resolv.conf", "", n.MS_BIND, "");
  }
}

/** Executable regular files under <dir>/{prestart,poststart,poststop}, in name order. */
function scanHooks(dir: string): GuestHooks {
  const scan = (kind: string): RuntimeHook[] => {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, kind)).sort();
    } catch {
      return [];
    }
    return names
      .map((name) => path.join(dir, kind, name))
      .filter((file) => {
        try {
          accessSync(file, constants.X_OK);
          return statSync(file).isFile();
        } catch {
          return false;
        }
      })
      .map((file) => ({ path: file, args: [file, kind] }));
  };
  return { prestart: scan("prestart"), poststart: scan("poststart"), poststop: scan("poststop") };
}
