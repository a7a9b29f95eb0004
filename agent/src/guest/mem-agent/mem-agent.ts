// The memory agent (agent.mem_agent_enable): two periodic jobs that return guest memory the
// host can reclaim — memcg reclaim of cold pages and memory compaction — configured at boot by
// agent.mem_agent_* and changed at run time by MemAgentMemcgSet / MemAgentCompactSet.
import type { Logger } from "../../log.js";
import type { GuestRoots } from "../roots.js";
import { type Compaction, Compactor, type CompactRoundReport } from "./compact.js";
import { type CompactConfig, fromParameters, type MemcgConfig, merge, type Update } from "./config.js";
import { MemcgReclaimer, type MemcgRoundReport } from "./memcg.js";

export interface MemAgentOptions {
  roots: GuestRoots;
  /** agent.mem_agent_* boot parameters, as the config table parsed them. */
  parameters: Readonly<Record<string, unknown>>;
  log: Logger;
  /** Replaces the compact_memory writer (tests). */
  compaction?: Compaction;
}

type Job = "memcg" | "compact";

/** setTimeout's limit (about 24.8 days); longer periods wait that long. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class MemAgent {
  private config: { memcg: MemcgConfig; compact: CompactConfig };
  private readonly reclaimer: MemcgReclaimer;
  private readonly compactor: Compactor;
  private readonly timers: Partial<Record<Job, NodeJS.Timeout>> = {};
  private readonly running: Partial<Record<Job, Promise<unknown>>> = {};
  private stopped = false;
  private readonly log: Logger;

  private constructor(options: MemAgentOptions) {
    this.config = fromParameters(options.parameters);
    this.reclaimer = new MemcgReclaimer(options.roots.cgroup, `${options.roots.proc}/pressure/memory`);
    this.compactor = new Compactor(options.roots.proc, options.compaction);
    this.log = options.log.child({ subsystem: "mem-agent" });
  }

  static async start(options: MemAgentOptions): Promise<MemAgent> {
    const agent = new MemAgent(options);
    await Promise.all([agent.reclaimer.start(), agent.compactor.start()]);
    agent.schedule("memcg");
    agent.schedule("compact");
    agent.log.info("mem-agent started", { memcg: agent.config.memcg, compact: agent.config.compact });
    return agent;
  }

  get memcg(): Readonly<MemcgConfig> {
    return this.config.memcg;
  }

  get compact(): Readonly<CompactConfig> {
    return this.config.compact;
  }

  /** Applies the fields set in `update`; the next round is a full period from now. */
  setMemcg(update: Update<MemcgConfig>): void {
    this.config.memcg = merge(this.config.memcg, update);
    this.log.info("memcg configuration changed", { memcg: this.config.memcg });
    this.schedule("memcg");
  }

  setCompact(update: Update<CompactConfig>): void {
    this.config.compact = merge(this.config.compact, update);
    this.log.info("compaction configuration changed", { compact: this.config.compact });
    this.schedule("compact");
  }

  /** Runs one memcg round now (also what the timer calls). */
  runMemcg(): Promise<MemcgRoundReport> {
    return this.once("memcg", () => this.reclaimer.round(this.config.memcg));
  }

  runCompact(): Promise<CompactRoundReport> {
    return this.once("compact", () => this.compactor.round(this.config.compact));
  }

  stop(): void {
    this.stopped = true;
    for (const job of ["memcg", "compact"] as const) clearTimeout(this.timers[job]);
  }

  /** A round at a time per job: a timer firing during a slow compaction joins it. */
  private once<T>(job: Job, round: () => Promise<T>): Promise<T> {
    const current = this.running[job] as Promise<T> | undefined;
    if (current) return current;
    const run = round().finally(() => {
      delete this.running[job];
    });
    this.running[job] = run;
    return run;
  }

  private schedule(job: Job): void {
    clearTimeout(this.timers[job]);
    delete this.timers[job];
    const config = this.config[job];
    if (this.stopped || config.disabled) return;
    const timer = setTimeout(
      () => {
        const round = job === "memcg" ? this.runMemcg() : this.runCompact();
        round.then(
          (report) => this.log.debug(`${job} round`, { report }),
          (err: unknown) => this.log.warn(`${job} round failed`, { error: err }),
        );
        void round.finally(() => this.schedule(job)).catch(() => {});
      },
      Math.min(config.periodSecs * 1000, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers[job] = timer;
  }
}
