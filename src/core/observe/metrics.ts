// The metrics port: what core needs to count and time things, without knowing which library exposes them.
// src/drivers/metrics/prom.ts implements it with prom-client; noopRegistry (below) is the default everywhere, so code
// that records a fact never has to ask whether metrics are on. Names and labels follow Prometheus conventions
// (masakari_ prefix, base units, _total for counters, _seconds for durations); the metrics themselves are defined in
// one place, ./metric-set.ts, and listed with their meaning in docs/observability.md.

/** Label values by label name. Only bounded values belong here (a type, a route pattern), never an id or a raw path. */
export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
  /** Drops every labelled value (before a collect hook sets the current ones). */
  reset(): void;
}

export interface Histogram {
  /** Observes one duration (or size) in base units. */
  observe(value: number, labels?: Labels): void;
}

export interface MetricDef {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface HistogramDef extends MetricDef {
  /** Upper bounds in base units; default: the registry's. */
  buckets?: readonly number[];
}

export interface MetricsRegistry {
  counter(def: MetricDef): Counter;
  gauge(def: MetricDef): Gauge;
  histogram(def: HistogramDef): Histogram;
  /**
   * Runs before every scrape, for values read from state rather than counted as they happen (the outbox backlog, the
   * libvirt connection). A hook must be cheap and must not throw; a throwing hook is skipped for that scrape.
   */
  onCollect(hook: () => void | Promise<void>): void;
}

const noopCounter: Counter = { inc() {} };
const noopGauge: Gauge = { set() {}, inc() {}, dec() {}, reset() {} };
const noopHistogram: Histogram = { observe() {} };

/** Metrics off: every handle does nothing, so instrumented code costs one empty call. */
export const noopRegistry: MetricsRegistry = {
  counter: () => noopCounter,
  gauge: () => noopGauge,
  histogram: () => noopHistogram,
  onCollect() {},
};

/** Seconds since `startMs` on a millisecond clock (Env.nowMs or performance.now). */
export const secondsSince = (startMs: number, nowMs: number): number => Math.max(0, (nowMs - startMs) / 1000);
