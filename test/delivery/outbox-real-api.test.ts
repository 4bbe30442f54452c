// The outbox against OUR real API (hono app over a real SQLite store, served over HTTP on a free port):
// 202 stores the notification, a resend is a 409 duplicate (done), an unknown host is a 400 (parked).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { Outbox } from '../../src/core/delivery/outbox.ts';
import { HttpTransport } from '../../src/drivers/delivery/http-transport.ts';
import { FixedToken } from '../../src/drivers/delivery/auth.ts';
import { monitorTimestamp, type NotificationDraft } from '../../src/core/ports/notify.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-outbox-api-'));
const store = openSqliteStore({ path: ':memory:' });
let server: RunningApi | null = null;
let outbox: Outbox | null = null;
after(async () => {
  await outbox?.stop(0);
  await server?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${server!.port}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

test('delivers to the real masakari API: 202 stored, resend 409, unknown host 400 parked', async () => {
  const app = createApiApp({ store, config: parseConfig({}, 'test'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
  server = await startApiServer(app, '127.0.0.1:0');
  const seg = await call('POST', '/v1/segments', { segment: { name: 'seg-1', recovery_method: 'auto', service_type: 'COMPUTE' } });
  assert.equal(seg.status, 201);
  const host = await call('POST', `/v1/segments/${seg.body.segment.uuid}/hosts`, { host: { name: 'compute-1', type: 'COMPUTE', control_attributes: 'SSH' } });
  assert.equal(host.status, 201);

  outbox = new Outbox({
    path: join(dir, 'outbox.sqlite'),
    transport: new HttpTransport({ endpoint: `http://127.0.0.1:${server.port}/v1`, auth: new FixedToken('notused'), timeoutMs: 5000 }),
    env: realEnv,
    log: silentLogger,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  outbox.start();
  const draft: NotificationDraft = {
    type: 'PROCESS',
    hostname: 'compute-1',
    generated_time: monitorTimestamp(new Date()),
    payload: { event: 'STOPPED', process_name: 'nova-compute' },
  };
  await outbox.submit(draft);
  await waitFor('delivered', () => outbox!.status().sent === 1);
  await outbox.submit(draft); // same again: the API's duplicate check answers 409
  await outbox.submit({ ...draft, hostname: 'no-such-host' });
  await waitFor('all answered', () => outbox!.status().pending === 0);

  const s = outbox.status();
  assert.equal(s.sent, 2);
  assert.equal(s.rejected, 1);
  assert.match(s.rejectedDrafts[0]?.reason ?? '', /^400: Host with name no-such-host could not be found\.$/);

  const list = await call('GET', '/v1/notifications');
  assert.equal(list.status, 200);
  assert.equal(list.body.notifications.length, 1, 'stored once');
  const n = list.body.notifications[0];
  assert.equal(n.type, 'PROCESS');
  assert.equal(n.source_host_uuid, host.body.host.uuid);
  assert.equal(n.generated_time, draft.generated_time);
  assert.deepEqual(n.payload, draft.payload);
});
