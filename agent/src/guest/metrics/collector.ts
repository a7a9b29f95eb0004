// GetMetrics: one scrape of the agent process, its Node.js runtime and the guest.
import { join } from "node:path";
import { addAgentMetrics } from "./agent-metrics.js";
import { Exposition } from "./exposition.js";
import { addGuestMetrics } from "./guest-metrics.js";
import { NodeMetrics } from "./node-metrics.js";

export interface Scrape {
  /** Prometheus text exposition format. */
  text: string;
  /** Sources that could not be read (their families are left out). */
  problems: string[];
}

export class MetricsCollector {
  private scrapes = 0;
  private readonly node = new NodeMetrics();
  private running: Promise<Scrape> | undefined;

  /** `proc` is the procfs root; the agent's own files are read from `<proc>/self`. */
  constructor(private readonly proc: string) {}

  /**
   * One scrape; calls that arrive while one runs share it. A scrape reads dozens of files and
   * builds a text of tens of KiB: a client pipelining thousands of GetMetrics would otherwise
   * have them all run at once, each holding its own copy (hundreds of MB), for results taken
   * within the same moment anyway.
   */
  scrape(): Promise<Scrape> {
    this.running ??= this.scrapeOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async scrapeOnce(): Promise<Scrape> {
    const out = new Exposition();
    const problems: string[] = [];
    this.scrapes++;
    out.family("kata_agent_scrape_count", "counter", "Metrics scrape count.")(this.scrapes);
    await addAgentMetrics(out, join(this.proc, "self"), problems);
    this.node.add(out);
    await addGuestMetrics(out, this.proc, problems);
    return { text: out.toString(), problems };
  }

  stop(): void {
    this.node.stop();
  }
}
