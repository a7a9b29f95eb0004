// kata_agent_nodejs_*: what only a Node.js agent has — the V8 heap and the event loop. An agent
// whose event loop stalls answers Health.Check late and gets its pod killed, so the delay is here.
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { Exposition } from "./exposition.js";

export class NodeMetrics {
  /**
   * Made at the first scrape, not before: its histogram is about 360 KB and its timer wakes the
   * agent every 20 ms, which an agent nobody scrapes should not pay for. So the first scrape
   * reports no delay; each later one, the delay since the one before.
   */
  private delay: IntervalHistogram | undefined;

  stop(): void {
    this.delay?.disable();
  }

  add(out: Exposition): void {
    const info = out.family(
      "kata_agent_nodejs_info",
      "gauge",
      "Node.js runtime running the agent (always 1).",
    );
    const memory = out.family(
      "kata_agent_nodejs_memory_bytes",
      "gauge",
      "Node.js memory use in bytes (heap_used, heap_total, external, array_buffers, heap_limit).",
    );
    const loopDelay = out.family(
      "kata_agent_nodejs_eventloop_delay_seconds",
      "gauge",
      "Event loop delay since the previous scrape, in seconds (min, mean, p50, p99, max).",
    );
    const resources = out.family(
      "kata_agent_nodejs_active_resources",
      "gauge",
      "Resources keeping the event loop alive, by type (sockets, timers, file handles...).",
    );
    const uptime = out.family(
      "kata_agent_uptime_seconds",
      "gauge",
      "Seconds since the agent process started.",
    );

    info(1, { version: process.version, v8: process.versions.v8 });
    const m = process.memoryUsage();
    memory(m.heapUsed, { item: "heap_used" });
    memory(m.heapTotal, { item: "heap_total" });
    memory(m.external, { item: "external" });
    memory(m.arrayBuffers, { item: "array_buffers" });
    memory(getHeapStatistics().heap_size_limit, { item: "heap_limit" });

    // The histogram is in nanoseconds; with no sample yet its min is a huge sentinel, so skip it.
    if (!this.delay) {
      this.delay = monitorEventLoopDelay({ resolution: 20 });
      this.delay.enable();
    } else if (this.delay.count > 0) {
      const ns = 1e-9;
      loopDelay(this.delay.min * ns, { item: "min" });
      loopDelay(this.delay.mean * ns, { item: "mean" });
      loopDelay(this.delay.percentile(50) * ns, { item: "p50" });
      loopDelay(this.delay.percentile(99) * ns, { item: "p99" });
      loopDelay(this.delay.max * ns, { item: "max" });
    }
    this.delay.reset();

    const counts = new Map<string, number>();
    for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
    for (const [type, count] of counts) resources(count, { type });
    uptime(process.uptime());
  }
}
