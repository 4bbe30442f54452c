// openstacksdk's instance_ha proxy (what masakari-monitors use to send notifications) with keystoneauth's NoAuth.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { clientsInstalled, PYTHON, startClientLab, type ClientLab } from './support.ts';

const SCRIPT = String.raw`
import json, sys
from keystoneauth1 import noauth, session
from openstack import connection
from openstack import exceptions

endpoint = sys.argv[1]
out = {}
conn = connection.Connection(session=session.Session(auth=noauth.NoAuth(endpoint=endpoint)), ha_api_version='1.2')
ha = conn.instance_ha
seg = ha.create_segment(name='seg-sdk', recovery_method='auto', service_type='COMPUTE', is_enabled=True)
out['segment'] = {'name': seg.name, 'uuid': seg.uuid, 'is_enabled': seg.is_enabled}
for i in range(5):
    ha.create_host(seg.uuid, name='compute-%d' % i, type='COMPUTE', control_attributes='SSH', reserved=(i == 0))
# limit=2 makes the SDK page with integer markers through all five hosts
out['hosts'] = sorted(h.name for h in ha.hosts(seg.uuid, limit=2))
out['reserved'] = [h.name for h in ha.hosts(seg.uuid, reserved=True)]
n = ha.create_notification(type='COMPUTE_HOST', hostname='compute-1', generated_time='2026-11-22T02:17:33.487258',
                           payload={'event': 'STOPPED', 'host_status': 'NORMAL', 'cluster_status': 'OFFLINE'})
out['notification'] = {'status': n.status, 'generated_time': n.generated_time}
try:
    ha.create_notification(type='COMPUTE_HOST', hostname='compute-1', generated_time='2026-11-22T02:17:33.487258',
                           payload={'event': 'STOPPED', 'host_status': 'NORMAL', 'cluster_status': 'OFFLINE'})
    out['duplicate'] = None
except exceptions.HttpException as e:
    out['duplicate'] = e.status_code
out['notifications'] = [x.notification_uuid for x in ha.notifications()]
out['segments'] = [s.name for s in ha.segments()]
print(json.dumps(out))
`;

describe('openstacksdk instance_ha', { timeout: 300_000 }, () => {
  const installed = clientsInstalled();
  let lab: ClientLab;
  before(async () => {
    if (installed) lab = await startClientLab();
  });
  after(async () => {
    await lab?.close();
  });

  test('segments, paged hosts, notifications and the 409 a monitor stops on', async (t) => {
    if (!requireComponent(t, 'python3-openstacksdk (Debian)', installed)) return;
    const r = await lab.run(PYTHON, ['-c', SCRIPT, lab.endpoint]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(out.segment.name, 'seg-sdk');
    assert.equal(out.segment.is_enabled, true);
    assert.deepEqual(out.hosts, ['compute-0', 'compute-1', 'compute-2', 'compute-3', 'compute-4']);
    assert.deepEqual(out.reserved, ['compute-0']);
    assert.deepEqual(out.notification, { status: 'new', generated_time: '2026-11-22T02:17:33.487258' });
    assert.equal(out.duplicate, 409);
    assert.equal(out.notifications.length, 1);
    assert.deepEqual(out.segments, ['seg-sdk']);
    const stored = await lab.store.listNotifications({ filters: {}, sort: [], limit: 10 });
    assert.equal(stored[0]?.uuid, out.notifications[0]);
  });
});
