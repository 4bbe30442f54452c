// `masakari db import-masakari` against the real OpenStack Masakari 14.0.2 (Debian's python3-masakari), on SQLite
// and on MariaDB through mysql+pymysql://. Data is created through Masakari's own API (segments of every recovery
// method, reserved and maintenance hosts, a deleted segment and host, notifications of each type); what its API
// cannot reach without an engine is set the way the engine would leave it (documented in docs/migrating.md):
// notification states by SQL on Masakari's database, progress details through taskflow's own persistence code
// (test/labs/masakari-peer/taskflow-progress.py). After the import, our API answers the same bodies as Masakari's,
// field by field, for every segment, host and notification, and a second (conflicting) import changes nothing.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createApiApp } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { masakariImportLabAvailable, python, startImportPeer, type ImportPeer } from '../labs/masakari-peer/import-lab.ts';
import { requireComponent } from '../support/components.ts';
import { runCli } from '../support/cli.ts';

const PEER_COMPONENT = 'OpenStack Masakari 14.0.2 and taskflow (Debian packages python3-masakari python3-pymysql)';
const PROGRESS = join(import.meta.dirname, '../labs/masakari-peer/taskflow-progress.py');

let root: string;
let mariadb: MariaDbLab | undefined;
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'imp-'));
});
after(async () => {
  await mariadb?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Runs SQL on Masakari's own database (what its engine would have written). */
type SourceSql = (sql: string, params?: unknown[]) => Promise<void>;

interface Seeded {
  segments: string[];
  hosts: { segment: string; uuid: string }[];
  notifications: string[];
  /** notification uuid -> the status set on Masakari's side */
  statuses: Record<string, string>;
  withProgress: string[];
}

async function ok(peer: ImportPeer, method: string, path: string, body: unknown, want: number): Promise<any> {
  const r = await peer.api(method, path, body);
  assert.equal(r.status, want, `${method} ${path} on Masakari: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Everything through Masakari's API, then states and progress details as its engine would leave them. */
async function seed(peer: ImportPeer, sql: SourceSql): Promise<Seeded> {
  const s: Seeded = { segments: [], hosts: [], notifications: [], statuses: {}, withProgress: [] };
  const seg = async (name: string, recovery_method: string, extra: Record<string, unknown> = {}) => {
    const b = await ok(peer, 'POST', '/segments', { segment: { name, recovery_method, service_type: 'COMPUTE', ...extra } }, 201);
    s.segments.push(b.segment.uuid);
    return b.segment.uuid as string;
  };
  const host = async (segment: string, name: string, extra: Record<string, unknown> = {}) => {
    const b = await ok(peer, 'POST', `/segments/${segment}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'SSH', ...extra } }, 201);
    s.hosts.push({ segment, uuid: b.host.uuid });
    return b.host.uuid as string;
  };
  const auto = await seg('imp-auto', 'auto', { description: 'first floor' });
  const rh = await seg('imp-rh', 'reserved_host');
  const ap = await seg('imp-ap', 'auto_priority');
  const rhp = await seg('imp-rhp', 'rh_priority', { enabled: false });
  await host(auto, 'imp-a1');
  const a2 = await host(auto, 'imp-a2');
  await ok(peer, 'PUT', `/segments/${auto}/hosts/${a2}`, { host: { on_maintenance: true } }, 200);
  await host(rh, 'imp-r1');
  await host(rh, 'imp-r2', { reserved: true });
  await host(ap, 'imp-p1');
  await host(rhp, 'imp-q1', { reserved: true });
  await ok(peer, 'PUT', `/segments/${rh}`, { segment: { description: 'renamed later' } }, 200);
  // A deleted segment and host: their UUIDs come over as deleted rows.
  const gone = await seg('imp-gone', 'auto');
  const goneHost = await host(gone, 'imp-gone-1');
  await ok(peer, 'DELETE', `/segments/${gone}/hosts/${goneHost}`, undefined, 204);
  await ok(peer, 'DELETE', `/segments/${gone}`, undefined, 204);

  const notify = async (type: string, hostname: string, payload: Record<string, unknown>, t: string) => {
    const b = await ok(peer, 'POST', '/notifications', { notification: { type, hostname, generated_time: t, payload } }, 202);
    s.notifications.push(b.notification.notification_uuid);
    return b.notification.notification_uuid as string;
  };
  const process = { event: 'STOPPED', process_name: 'nova-compute' };
  const n1 = await notify('PROCESS', 'imp-a1', process, '2026-12-01T10:00:00.123456');
  const n2 = await notify(
    'VM',
    'imp-r1',
    { event: 'LIFECYCLE', instance_uuid: '6b0c1c7a-0000-4000-8000-000000000001', vir_domain_event: 'STOPPED_FAILED' },
    '2026-12-01T10:05:00.000000',
  );
  const n3 = await notify('COMPUTE_HOST', 'imp-p1', { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' }, '2026-12-01T10:10:00.500000');
  const n4 = await notify('PROCESS', 'imp-r2', process, '2026-12-01T10:15:00.000000');
  const n5 = await notify(
    'VM',
    'imp-a1',
    { event: 'LIFECYCLE', instance_uuid: '6b0c1c7a-0000-4000-8000-000000000002', vir_domain_event: 'STOPPED_FAILED' },
    '2026-12-01T10:20:00.000000',
  );
  const n6 = await notify('PROCESS', 'imp-q1', process, '2026-12-01T10:25:00.000000');
  // n1 stays new (as the API left it); the others as masakari-engine would have left them.
  const states: [string, string][] = [
    [n2, 'finished'],
    [n3, 'running'],
    [n4, 'error'],
    [n5, 'failed'],
    [n6, 'ignored'],
  ];
  for (const [uuid, status] of states) {
    await sql('UPDATE notifications SET status = ?, updated_at = ? WHERE notification_uuid = ?', [status, '2026-12-01 11:00:00', uuid]);
    s.statuses[uuid] = status;
  }
  s.statuses[n1] = 'new';
  const detail = (ts: string, message: string, progress: number) => ({ timestamp: ts, message, progress });
  await python([
    PROGRESS,
    'write',
    '--config-file',
    peer.conf,
    n2,
    JSON.stringify([
      {
        name: 'StopInstanceTask',
        state: 'SUCCESS',
        details: [detail('2026-12-01 10:05:01.000100', 'Stopping instance', 0), detail('2026-12-01 10:05:03.000200', 'Stopped instance', 1)],
      },
      {
        name: 'StartInstanceTask',
        state: 'SUCCESS',
        details: [detail('2026-12-01 10:05:04.000300', 'Starting instance', 0), detail('2026-12-01 10:05:05', 'Started instance', 1)],
      },
      {
        name: 'ConfirmInstanceActiveTask',
        state: 'SUCCESS',
        details: [
          detail('2026-12-01 10:05:06.500000', "Confirming instance is in 'ACTIVE' state", 0),
          detail('2026-12-01 10:05:07.250000', "Confirmed instance is in 'ACTIVE' state", 1),
        ],
      },
    ]),
  ]);
  await python([
    PROGRESS,
    'write',
    '--config-file',
    peer.conf,
    n3,
    JSON.stringify([
      {
        name: 'DisableComputeServiceTask',
        state: 'SUCCESS',
        details: [
          detail('2026-12-01 10:10:01', 'Disabling compute service on host: imp-p1', 0),
          detail('2026-12-01 10:10:02', 'Disabled compute service on host: imp-p1', 1),
        ],
      },
      { name: 'PrepareHAEnabledInstancesTask', state: 'RUNNING', details: [detail('2026-12-01 10:10:03.000001', 'Preparing instances for evacuation', 0)] },
      { name: 'EvacuateInstancesTask', state: 'PENDING', details: [] },
    ]),
  ]);
  s.withProgress.push(n2, n3);
  return s;
}

function ourApi(store: Store) {
  const app = createApiApp({ store, config: parseConfig({}, 'test'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
  return async (path: string, version = '1.2') => {
    const res = await app.request(`/v1${path}`, { headers: { 'OpenStack-API-Version': `instance-ha ${version}` } });
    return { status: res.status, body: JSON.parse(await res.text()) };
  };
}

/** Every resource, one by one and in lists, the same on both sides. */
async function compareApis(peer: ImportPeer, ours: ReturnType<typeof ourApi>, s: Seeded): Promise<void> {
  const same = async (path: string, version = '1.2') => {
    const theirs = await peer.api('GET', path, undefined, version);
    const mine = await ours(path, version);
    assert.equal(theirs.status, 200, `Masakari GET ${path}: ${JSON.stringify(theirs.body)}`);
    assert.equal(mine.status, 200, `our GET ${path}: ${JSON.stringify(mine.body)}`);
    assert.deepEqual(mine.body, theirs.body, `GET ${path}: our answer differs from Masakari's`);
  };
  await same('/segments');
  for (const uuid of s.segments.slice(0, 4)) {
    await same(`/segments/${uuid}`);
    await same(`/segments/${uuid}/hosts`);
  }
  for (const h of s.hosts.filter((h) => h.segment !== s.segments[4])) await same(`/segments/${h.segment}/hosts/${h.uuid}`);
  await same('/notifications');
  // From 1.1 on, Masakari's API asks its engine (over RPC) for progress details, and this lab runs no engine: one
  // notification is compared at 1.0 (the same body without recovery_workflow_details), the details below.
  for (const uuid of s.notifications) await same(`/notifications/${uuid}`, '1.0');
  // The deleted segment and host stay invisible on both sides.
  assert.equal((await ours(`/segments/${s.segments[4]}`)).status, 404);
  assert.equal((await peer.api('GET', `/segments/${s.segments[4]}`)).status, 404);
  // Progress details (API 1.1): Masakari's own reading of its taskflow tables against ours.
  for (const uuid of s.withProgress) {
    const theirs = JSON.parse(await python([PROGRESS, 'read', '--config-file', peer.conf, uuid]));
    const mine = await ours(`/notifications/${uuid}`, '1.1');
    assert.ok(theirs.length > 0, 'Masakari shows progress details');
    assert.deepEqual(mine.body.notification.recovery_workflow_details, theirs, `progress details of ${uuid}`);
  }
}

async function countRows(store: Store): Promise<number> {
  const q = { filters: {}, sort: [], limit: 1000 };
  return (await store.listSegments(q)).length + (await store.listNotifications(q)).length;
}

interface Scenario {
  name: string;
  source: string;
  /** masakari.conf's [taskflow] connection when not the source (then imported with --taskflow-url) */
  taskflow?: string;
  sql: SourceSql;
  target: string;
  openTarget: () => Promise<Store>;
  /** must never appear in the output */
  secret?: string;
}

async function scenario(t: TestContext, { name, source, taskflow, sql, target, openTarget, secret }: Scenario) {
  const peer = await startImportPeer(mkdtempSync(join(root, `${name}-`)), source, taskflow);
  const importArgs = (...more: string[]) => [
    'db',
    'import-masakari',
    source,
    '--include-history',
    '--database',
    target,
    ...(taskflow ? ['--taskflow-url', taskflow] : []),
    ...more,
  ];
  let store: Store | undefined;
  try {
    const s = await seed(peer, sql);
    const sync = await runCli(['db', 'sync', '--database', target]);
    assert.equal(sync.code, 0, sync.stderr);

    const dry = await runCli(importArgs('--dry-run'), { timeoutMs: 120_000 });
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, /failover segments: 4 live \(auto 1, reserved_host 1, auto_priority 1, rh_priority 1\), 1 deleted/);
    assert.match(dry.stdout, /hosts: 6 live \(2 reserved, 1 on maintenance\), 1 deleted/);
    // The unfinished ones are listed by UUID; finished, failed and ignored are not.
    const unfinished = dry.stdout.slice(dry.stdout.indexOf('unfinished notifications'));
    for (const [uuid, status] of Object.entries(s.statuses)) {
      if (['new', 'running', 'error'].includes(status)) assert.match(unfinished, new RegExp(`${uuid} ${status} `));
      else assert.doesNotMatch(unfinished, new RegExp(uuid));
    }
    assert.match(dry.stdout, /dry run: would import failover_segments 5, hosts 7, notifications 6, workflow_tasks 5, vmoves 0; nothing was written/);
    store = await openTarget();
    assert.equal(await countRows(store), 0, 'a dry run writes nothing');

    const run = await runCli(importArgs(), { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /imported failover_segments 5, hosts 7, notifications 6, workflow_tasks 5, vmoves 0/);
    if (secret) assert.ok(!(run.stdout + run.stderr + dry.stdout).includes(secret), 'the password never appears in the output');

    await compareApis(peer, ourApi(store), s);

    // Again: every UUID is taken now. Refused, each conflict explained, nothing changed.
    const before = await countRows(store);
    const again = await runCli(importArgs(), { timeoutMs: 120_000 });
    assert.equal(again.code, 1, again.stdout);
    assert.match(again.stdout, /refused: 18 conflict\(s\) with rows already in this database; nothing was changed/);
    assert.match(again.stdout, /segment "imp-auto" \([0-9a-f-]{36}\): the target already has a failover segment with UUID/);
    assert.match(again.stdout, /host "imp-gone-1" \([0-9a-f-]{36}\): the target already has a host with UUID [0-9a-f-]{36} \("imp-gone-1", deleted\)/);
    assert.equal(await countRows(store), before);
    if (secret) assert.ok(!(again.stdout + again.stderr).includes(secret));
  } finally {
    await store?.close();
    await peer.stop();
  }
  t.diagnostic(`${name}: imported and compared`);
}

test('import from Masakari 14.0.2 on SQLite: same API answers, deleted rows stay deleted, a second import is refused', { timeout: 600_000 }, async (t) => {
  if (!requireComponent(t, PEER_COMPONENT, await masakariImportLabAvailable())) return;
  const dir = mkdtempSync(join(root, 'sqlite-'));
  const file = join(dir, 'masakari.db');
  const sql: SourceSql = async (text, params = []) => {
    const db = new Database(file);
    try {
      db.prepare(text).run(...params);
    } finally {
      db.close();
    }
  };
  const target = `sqlite:${join(dir, 'ours.sqlite')}`;
  await scenario(t, {
    name: 'sqlite',
    source: `sqlite:///${file}`,
    sql,
    target,
    openTarget: async () => openSqliteStore({ path: join(dir, 'ours.sqlite'), migrate: false }),
  });

  // A name conflict alone (same name, another UUID) is refused too, and explained by name.
  const other = join(dir, 'other.sqlite');
  const store = openSqliteStore({ path: other });
  const api = createApiApp({ store, config: parseConfig({}, 'test'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
  const created = await api.request('/v1/segments', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ segment: { name: 'imp-rh', recovery_method: 'auto', service_type: 'COMPUTE' } }),
  });
  assert.equal(created.status, 201);
  await store.close();
  const refused = await runCli(['db', 'import-masakari', `sqlite:///${file}`, '--database', `sqlite:${other}`]);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stdout, /refused: 1 conflict\(s\)/);
  assert.match(refused.stdout, /segment "imp-rh" \([0-9a-f-]{36}\): the target already has a live failover segment named "imp-rh" \(UUID [0-9a-f-]{36}\)/);
  const after = openSqliteStore({ path: other, migrate: false });
  assert.equal((await after.listHosts({ filters: { segmentUuid: '' }, sort: [], limit: 10 })).length, 0);
  assert.equal((await after.listSegments({ filters: {}, sort: [], limit: 10 })).length, 1, 'nothing was added');
  await after.close();
});

test('import from Masakari 14.0.2 on MariaDB through mysql+pymysql://, into our MySQL store', { timeout: 600_000 }, async (t) => {
  if (!requireComponent(t, PEER_COMPONENT, await masakariImportLabAvailable())) return;
  if (!requireComponent(t, MARIADB_COMPONENT, mariadbAvailable())) return;
  mariadb = await MariaDbLab.start();
  const sourceUrl = await mariadb.createDatabase('impsrc');
  const sourceDb = sourceUrl.slice(sourceUrl.lastIndexOf('/') + 1);
  const source = `${sourceUrl.replace(/^mysql:/, 'mysql+pymysql:')}?charset=utf8`;
  const target = await mariadb.createDatabase('impdst');
  const sql: SourceSql = async (text, params = []) => {
    await mariadb!.adminQuery(`UPDATE \`${sourceDb}\`.${text.replace(/^UPDATE /, '')}`, params);
  };
  const taskflow = `sqlite:///${join(mkdtempSync(join(root, 'taskflow-')), 'taskflow.db')}`;
  await scenario(t, {
    name: 'mariadb',
    source,
    taskflow,
    sql,
    target,
    openTarget: () => openMysqlStore({ url: target, migrate: false }),
    secret: mariadb.password,
  });
});

test("a source that is not Masakari's database is refused with the reason, its password masked", async () => {
  const dir = mkdtempSync(join(root, 'bad-'));
  const ours = join(dir, 'ours.sqlite');
  const synced = await runCli(['db', 'sync', '--database', `sqlite:${ours}`]);
  assert.equal(synced.code, 0, synced.stderr);
  const notOurs = await runCli(['db', 'import-masakari', `sqlite:///${ours}`, '--database', `sqlite:${join(dir, 'target.sqlite')}`]);
  assert.equal(notOurs.code, 1);
  assert.match(notOurs.stderr, /is not OpenStack Masakari's database \(its notifications table has no notification_uuid column\)/);
  const scheme = await runCli(['db', 'import-masakari', 'postgresql://masakari:hunter22@db/masakari', '--database', 'sqlite::memory:']);
  assert.equal(scheme.code, 1);
  assert.match(scheme.stderr, /"postgresql:\/\/masakari:\*\*\*@db\/masakari" is not one masakari.conf can hold/);
  const unreachable = await runCli([
    'db',
    'import-masakari',
    'mysql+pymysql://masakari:hunter22@127.0.0.1:1/masakari?charset=utf8',
    '--database',
    'sqlite::memory:',
  ]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot connect to Masakari's database mysql:\/\/masakari@127\.0\.0\.1:1\/masakari/);
  for (const r of [scheme, unreachable]) assert.ok(!(r.stdout + r.stderr).includes('hunter22'));
});
