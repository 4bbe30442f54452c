// The protection report as Prometheus gauges (docs/observability.md): set from every full report, which the
// controller evaluates every few seconds, so a scrape sees the state of at most one evaluation ago. Gauges are reset
// first so a deleted host or segment disappears instead of keeping its last value.

import type { ProtectionMetrics } from '../observe/metric-set.ts';
import type { ProtectionReport } from './service.ts';

export function setProtectionGauges(m: ProtectionMetrics, report: ProtectionReport): void {
  const now = Date.parse(report.generated_at);
  m.hostProtected.reset();
  m.segmentProtected.reset();
  m.agentLastSeenAge.reset();
  m.fencerReady.reset();
  for (const h of report.hosts) {
    m.hostProtected.set(h.protected ? 1 : 0, { host: h.name, segment: h.segment });
    const seen = h.agent?.last_seen ? Date.parse(h.agent.last_seen) : NaN;
    if (Number.isFinite(seen)) m.agentLastSeenAge.set(Math.max(0, (now - seen) / 1000), { host: h.name });
    const state = h.fencing?.state;
    if (state && state !== 'not_configured' && state !== 'disabled') m.fencerReady.set(state === 'ok' ? 1 : 0, { host: h.name });
  }
  for (const s of report.segments) m.segmentProtected.set(s.protected ? 1 : 0, { segment: s.name });
}
