// The metrics port (core/observe/metrics.ts) on prom-client: one private prom-client Registry per process (never
// the library's global one, so tests can run several), Node's process metrics included (process_start_time_seconds
// shows restarts of the agent itself), and the collect hooks run before every scrape.

import client from 'prom-client';
import type { Counter, Gauge, Histogram, HistogramDef, Labels, MetricDef, MetricsRegistry } from '../../core/observe/metrics.ts';

/**
 * Node.js default metrics promtool's linter refuses: gauges named like counters (`_total` on a gauge). Left out so that
 * `promtool check metrics` accepts the whole output.
 */
const LINT_REFUSED = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

export class PromRegistry implements MetricsRegistry {
  readonly registry = new client.Registry();
  private readonly hooks: (() => void | Promise<void>)[] = [];

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) {
      client.collectDefaultMetrics({ register: this.registry });
      for (const name of LINT_REFUSED) this.registry.removeSingleMetric(name);
    }
  }

  counter(def: MetricDef): Counter {
    const c = new client.Counter({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], registers: [this.registry] });
    return {
      inc: (labels?: Labels, by = 1) => (labels ? c.inc(labels, by) : c.inc(by)),
    };
  }

  gauge(def: MetricDef): Gauge {
    const g = new client.Gauge({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], registers: [this.registry] });
    return {
      set: (value: number, labels?: Labels) => (labels ? g.set(labels, value) : g.set(value)),
      inc: (labels?: Labels, by = 1) => (labels ? g.inc(labels, by) : g.inc(by)),
      dec: (labels?: Labels, by = 1) => (labels ? g.dec(labels, by) : g.dec(by)),
      reset: () => g.reset(),
    };
  }

  histogram(def: HistogramDef): Histogram {
    const h = new client.Histogram({
      name: def.name,
      help: def.help,
      labelNames: [...(def.labelNames ?? [])],
      ...(def.buckets ? { buckets: [...def.buckets] } : {}),
      registers: [this.registry],
    });
    return { observe: (value: number, labels?: Labels) => (labels ? h.observe(labels, value) : h.observe(value)) };
  }

  onCollect(hook: () => void | Promise<void>): void {
    this.hooks.push(hook);
  }

  /** The exposition text (Prometheus text format 0.0.4), after every collect hook ran. */
  async metrics(): Promise<string> {
    for (const hook of this.hooks) {
      try {
        await hook();
      } catch {
        // A broken hook must not cost the scrape: its gauges keep their last values.
      }
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
