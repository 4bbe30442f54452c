// openstacksdk with real Keystone-style authentication: password auth against a stand-in Keystone whose catalog
// points at our API in the /v1/{project_id} form; our API validates the SDK's token against the same Keystone.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { KeystoneTokenValidator } from '../../src/drivers/identity/keystone.ts';
import { FAKE_PROJECT, FakeKeystone } from '../api/fake-keystone.ts';
import { requireComponent } from '../support/components.ts';
import { clientsInstalled, PYTHON } from './support.ts';

const SCRIPT = String.raw`
import json, sys
import openstack
conn = openstack.connect(auth_url=sys.argv[1], username='admin', password='adminpw', project_name='p',
                         user_domain_name='Default', project_domain_name='Default', ha_api_version='1.2')
ha = conn.instance_ha
seg = ha.create_segment(name='seg-ks', recovery_method='auto', service_type='COMPUTE')
ha.create_host(seg.uuid, name='compute-1', type='COMPUTE', control_attributes='SSH')
print(json.dumps({'segments': [s.name for s in ha.segments()], 'hosts': [h.name for h in ha.hosts(seg.uuid)]}))
`;

describe('openstacksdk through Keystone', { timeout: 300_000 }, () => {
  const installed = clientsInstalled();
  const ks = new FakeKeystone();
  let store: Store;
  let server: RunningApi;
  let dir: string;
  const paths: string[] = [];
  before(async () => {
    if (!installed) return;
    await ks.start();
    store = openSqliteStore({ path: ':memory:' });
    const config = parseConfig({ api: { auth_strategy: 'keystone', keystone: { auth_url: `${ks.url}/v3`, password: 'secret', timeout_seconds: 5 } } }, 'test');
    const app = createApiApp({
      store,
      config,
      log: silentLogger,
      hostCatalog: acceptAllHostCatalog,
      tokenValidator: new KeystoneTokenValidator(config.api.keystone, silentLogger),
    });
    // Records the paths the SDK used, in front of the real app (a wrapper, not a parent hono app: the app's own
    // routing path, which maps /v1/{project_id}/... onto its routes, must stay in charge).
    const recording = {
      fetch: (req: Request, env: unknown) => {
        paths.push(`${req.method} ${new URL(req.url).pathname}`);
        return app.fetch(req, env);
      },
    };
    server = await startApiServer(recording, '127.0.0.1:0');
    ks.haEndpoint = `http://127.0.0.1:${server.port}/v1/%(project)s`;
    dir = mkdtempSync(join(tmpdir(), 'masakari-sdk-ks-'));
  });
  after(async () => {
    await server?.close();
    await store?.close();
    if (installed) await ks.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('password auth, catalog endpoint with the project id, token validated by the API', async (t) => {
    if (!requireComponent(t, 'python3-openstacksdk (Debian)', installed)) return;
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        PYTHON,
        ['-c', SCRIPT, `${ks.url}/v3`],
        { env: { PATH: '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' }, timeout: 120_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { segments: ['seg-ks'], hosts: ['compute-1'] });
    assert.ok(ks.validations >= 1, 'the API asked Keystone about the SDK token');
    const segs = await store.listSegments({ filters: {}, sort: [], limit: 10 });
    assert.deepEqual(
      segs.map((s) => s.name),
      ['seg-ks'],
    );
    assert.ok(paths.includes(`POST /v1/${FAKE_PROJECT}/segments`), paths.join(', '));
    assert.ok(paths.includes(`GET /v1/${FAKE_PROJECT}/segments`), paths.join(', '));
  });
});
