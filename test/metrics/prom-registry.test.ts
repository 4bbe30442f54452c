// The prom-client side of the metrics port: our allocation-free histogram writes the same exposition a Prometheus
// histogram has (cumulative buckets, +Inf, sum, count, per label set), counters and gauges keep their labels, and a
// failing collect hook does not cost the scrape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromRegistry } from '../../src/drivers/metrics/prom.ts';
import { requireComponent } from '../support/components.ts';
import { promtoolAvailable, promtoolCheck, value } from './scrape.ts';

test('histograms, counters and gauges in the exposition text; promtool accepts it', async (t) => {
  const r = new PromRegistry({ defaultMetrics: false });
  const h = r.histogram({ name: 'x_duration_seconds', help: 'A test histogram.', labelNames: ['route', 'code'], buckets: [0.1, 1, 10] });
  for (const v of [0.05, 0.1, 0.5, 2, 20]) h.observe(v, { route: '/a', code: '200' });
  h.observe(0.5, { route: '/b', code: '404' });
  h.observe(Number.NaN, { route: '/a', code: '200' }); // not a duration: ignored, never a NaN sum
  const plain = r.histogram({ name: 'y_seconds', help: 'Without labels.', buckets: [1] });
  plain.observe(3);
  const c = r.counter({ name: 'x_events_total', help: 'A test counter.', labelNames: ['kind'] });
  c.inc({ kind: 'a' });
  c.inc({ kind: 'a' }, 2);
  const g = r.gauge({ name: 'x_backlog', help: 'A test gauge.', labelNames: ['state'] });
  r.onCollect(() => g.set(7, { state: 'pending' }));
  r.onCollect(() => {
    throw new Error('broken hook');
  });

  const text = await r.metrics();
  const a = { route: '/a', code: '200' };
  assert.deepEqual(
    ['0.1', '1', '10', '+Inf'].map((le) => value(text, 'x_duration_seconds_bucket', { ...a, le })),
    [2, 3, 4, 5],
  );
  assert.equal(value(text, 'x_duration_seconds_count', a), 5);
  assert.equal(value(text, 'x_duration_seconds_sum', a), 22.65);
  assert.equal(value(text, 'x_duration_seconds_count', { route: '/b', code: '404' }), 1);
  assert.equal(value(text, 'x_duration_seconds_bucket', { route: '/b', code: '404', le: '0.1' }), 0);
  assert.equal(value(text, 'y_seconds_bucket', { le: '1' }), 0);
  assert.equal(value(text, 'y_seconds_count'), 1);
  assert.equal(value(text, 'x_events_total', { kind: 'a' }), 3);
  assert.equal(value(text, 'x_backlog', { state: 'pending' }), 7, 'set by the hook that ran before the broken one');
  assert.match(text, /# TYPE x_duration_seconds histogram/);

  if (!requireComponent(t, 'promtool (Debian prometheus)', promtoolAvailable())) return;
  const check = promtoolCheck(text);
  assert.ok(check.ok, check.output);
});
