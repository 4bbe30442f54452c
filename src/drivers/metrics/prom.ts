// The metrics port (core/observe/metrics.ts) on prom-client: one private prom-client Registry per process (never
// the library's global one, so tests can run several), Node's process metrics included (process_start_time_seconds
// shows restarts of the agent itself), and the collect hooks run before every scrape.

import client from 'prom-client';
import { FastHistogram } from './fast-histogram.ts';
import type { Counter, Gauge, Histogram, HistogramDef, Labels, MetricDef, MetricsRegistry } from '../../core/observe/metrics.ts';

/**
 * Node.js default metrics promtool's linter refuses: gauges named like counters (`_total` on a gauge). Left out so that
 * `promtool check metrics` accepts the whole output.
 */
const LINT_REFUSED = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

/** prom-client's default buckets (0.005 s to 10 s), for a histogram defined without its own. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
    // Ours rather than prom-client's: no per-observation allocation (fast-histogram.ts); the API observes every request.
    const h = new FastHistogram(def.name, def.help, def.labelNames ?? [], def.buckets ?? DEFAULT_BUCKETS);
    this.registry.registerMetric(h as unknown as client.Metric);
    return { observe: (value: number, labels?: Labels) => h.observe(value, labels) };
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
