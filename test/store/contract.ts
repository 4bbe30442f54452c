// The Store contract: every implementation (SQLite now, MySQL/MariaDB later) must pass these tests.
// Dialect-neutral on purpose: only the Store interface is used, and test values avoid anything collations could
// order differently (lower-case ASCII only).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ImportBatch, ListQuery, NewHost, NewSegment, SortDir, Store } from '../../src/core/store/types.ts';
import type { Host, Notification, NotificationType, Segment, VMove } from '../../src/core/domain/model.ts';
import { MarkerNotFoundError, MasakariError } from '../../src/core/domain/errors.ts';
import { dateFromMicros, microsOf } from '../../src/core/domain/time.ts';

/** A fixed time with microseconds, so precision loss shows. */
const T0_US = Date.UTC(2026, 10, 22, 2, 16, 14) * 1000 + 487_258;
const at = (offsetMs: number, extraUs = 0) => dateFromMicros(T0_US + Math.round(offsetMs * 1000) + extraUs);

const seg = (name: string, over: Partial<NewSegment> = {}): NewSegment => ({
  name,
  description: null,
  recoveryMethod: 'auto',
  serviceType: 'COMPUTE',
  enabled: true,
  ...over,
});
const hostInput = (name: string, over: Partial<NewHost> = {}): NewHost => ({
  name,
  type: 'COMPUTE',
  controlAttributes: 'SSH',
  reserved: false,
  onMaintenance: false,
  ...over,
});

async function rejectsWith(p: Promise<unknown>, status: number, message?: string | RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MasakariError, `expected a MasakariError, got ${String(e)}`);
    assert.equal(e.status, status);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

type Getter<R> = (r: R) => number | string | null;
/** The order the store must produce: keys in order, NULL smallest, then id in the last direction. */
function expectedOrder<R extends { id: number }>(rows: R[], keys: { get: Getter<R>; dir: SortDir }[]): number[] {
  const all = [...keys, { get: (r: R) => r.id, dir: keys[keys.length - 1]!.dir }];
  const cmp = (a: number | string | null, b: number | string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  return [...rows]
    .sort((x, y) => {
      for (const k of all) {
        const c = cmp(k.get(x), k.get(y));
        if (c !== 0) return k.dir === 'asc' ? c : -c;
      }
      return 0;
    })
    .map((r) => r.id);
}

/** Reads every page with `pageSize` and returns the concatenated ids (and checks the page sizes). */
async function pageThrough<R extends { id: number }>(
  list: (q: ListQuery<unknown>) => Promise<R[]>,
  base: Omit<ListQuery<unknown>, 'limit' | 'marker'>,
  pageSize: number,
): Promise<number[]> {
  const ids: number[] = [];
  let marker: number | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await list({ ...base, limit: pageSize, ...(marker !== undefined ? { marker } : {}) });
    assert.ok(page.length <= pageSize);
    ids.push(...page.map((r) => r.id));
    if (page.length < pageSize) return ids;
    marker = page[page.length - 1]!.id;
  }
  throw new Error('paging did not end');
}

const dateKey = (d: Date | null) => (d === null ? null : microsOf(d));
const boolKey = (b: boolean) => (b ? 1 : 0);

export function runStoreContract(label: string, open: () => Promise<Store>) {
  /** Runs `body` with a fresh store, always closing it. */
  const withStore = (body: (s: Store) => Promise<void>) => async () => {
    const s = await open();
    try {
      await body(s);
    } finally {
      await s.close();
    }
  };

  async function segmentWithHost(s: Store, name = 'seg', host = 'node1') {
    const sg = await s.createSegment(seg(name), at(0));
    const h = await s.createHost(sg.uuid, hostInput(host), at(0));
    return { sg, h };
  }

  let nCounter = 0;
  const notif = (hostUuid: string, over: Partial<{ type: NotificationType; t: Date; payload: Record<string, unknown> }> = {}) => ({
    uuid: randomUUID(),
    type: over.type ?? 'VM',
    generatedTime: over.t ?? at(0),
    sourceHostUuid: hostUuid,
    payload: over.payload ?? { event: 'LIFECYCLE', instance_uuid: `i-${++nCounter}`, vir_domain_event: 'STOPPED_FAILED' },
  });

  describe(`Store contract: ${label}`, () => {
    describe('schema', () => {
      test(
        'is migrated and migrate() is idempotent',
        withStore(async (s) => {
          const v = await s.schemaVersion();
          assert.ok(v.latest >= 1);
          assert.equal(v.current, v.latest);
          assert.deepEqual(await s.migrate(), { applied: [] });
          assert.deepEqual(await s.schemaVersion(), v);
        }),
      );
    });

    describe('segments', () => {
      test(
        'create, get and microsecond timestamps',
        withStore(async (s) => {
          const created = await s.createSegment(seg('alpha', { description: 'd', recoveryMethod: 'rh_priority', enabled: false }), at(0));
          assert.ok(Number.isInteger(created.id));
          assert.match(created.uuid, /^[0-9a-f-]{36}$/);
          assert.equal(created.name, 'alpha');
          assert.equal(created.description, 'd');
          assert.equal(created.recoveryMethod, 'rh_priority');
          assert.equal(created.serviceType, 'COMPUTE');
          assert.equal(created.enabled, false);
          assert.equal(created.deleted, false);
          assert.equal(created.updatedAt, null);
          assert.equal(created.deletedAt, null);
          assert.equal(microsOf(created.createdAt), T0_US);
          const got = await s.getSegment(created.uuid);
          assert.deepEqual(got, created);
          assert.equal(microsOf(got.createdAt), T0_US);
          assert.equal(await s.getSegment(randomUUID()), undefined);
        }),
      );

      test(
        'duplicate live names conflict; a deleted name can be reused',
        withStore(async (s) => {
          const a = await s.createSegment(seg('alpha'), at(0));
          await rejectsWith(s.createSegment(seg('alpha'), at(1)), 409, 'Failover segment with name alpha already exists.');
          const b = await s.createSegment(seg('beta'), at(2));
          await rejectsWith(s.updateSegment(b.uuid, { name: 'alpha' }, at(3)), 409, 'Failover segment with name alpha already exists.');
          const same = await s.updateSegment(a.uuid, { name: 'alpha', description: 'x' }, at(4));
          assert.equal(same.description, 'x');
          assert.equal(microsOf(same.updatedAt!), microsOf(at(4)));
          await s.deleteSegment(a.uuid, at(5));
          const again = await s.createSegment(seg('alpha'), at(6));
          assert.notEqual(again.uuid, a.uuid);
          assert.equal(await s.getSegment(a.uuid), undefined);
        }),
      );

      test(
        'update changes only the given fields; null clears the description',
        withStore(async (s) => {
          const a = await s.createSegment(seg('alpha', { description: 'keep' }), at(0));
          const u = await s.updateSegment(a.uuid, { enabled: false, recoveryMethod: 'reserved_host' }, at(1));
          assert.equal(u.enabled, false);
          assert.equal(u.recoveryMethod, 'reserved_host');
          assert.equal(u.description, 'keep');
          assert.equal(u.name, 'alpha');
          const c = await s.updateSegment(a.uuid, { description: null }, at(2));
          assert.equal(c.description, null);
          await rejectsWith(s.updateSegment(randomUUID(), { description: 'x' }, at(3)), 404);
          await rejectsWith(s.deleteSegment(randomUUID(), at(3)), 404);
        }),
      );

      test(
        'delete soft-deletes the segment and its hosts',
        withStore(async (s) => {
          const { sg, h } = await segmentWithHost(s);
          const h2 = await s.createHost(sg.uuid, hostInput('node2'), at(1));
          await s.deleteSegment(sg.uuid, at(2));
          assert.equal(await s.getSegment(sg.uuid), undefined);
          assert.equal(await s.getHost(h.uuid), undefined);
          assert.equal(await s.getHost(h2.uuid), undefined);
          assert.equal(await s.getHostByName('node1'), undefined);
          assert.deepEqual(await s.listHostsOfSegment(sg.uuid), []);
          assert.deepEqual(await s.listSegments({ filters: {}, sort: [], limit: 10 }), []);
          await rejectsWith(s.deleteSegment(sg.uuid, at(3)), 404);
          // host names are free again
          const other = await s.createSegment(seg('other'), at(4));
          await s.createHost(other.uuid, hostInput('node1'), at(5));
        }),
      );

      test(
        'in use while a host has a notification in new, running or error',
        withStore(async (s) => {
          const { sg, h } = await segmentWithHost(s);
          const other = await s.createSegment(seg('other'), at(0));
          assert.equal(await s.segmentInUse(sg.uuid), false);
          const r = await s.createNotification(notif(h.uuid), 180_000, at(1));
          assert.ok(r.created);
          const uuid = r.notification.uuid;
          for (const [status, used] of [
            ['new', true],
            ['running', true],
            ['error', true],
            ['finished', false],
            ['failed', false],
            ['ignored', false],
          ] as const) {
            await s.setNotificationStatus(uuid, status, at(2));
            assert.equal(await s.segmentInUse(sg.uuid), used, `segment with a ${status} notification`);
            assert.equal(await s.hostInUse(h.uuid), used, `host with a ${status} notification`);
            assert.equal(await s.segmentInUse(other.uuid), false);
          }
        }),
      );

      test(
        'filters',
        withStore(async (s) => {
          const a = await s.createSegment(seg('a', { recoveryMethod: 'auto', serviceType: 'compute', enabled: true }), at(0));
          const b = await s.createSegment(seg('b', { recoveryMethod: 'reserved_host', serviceType: 'compute', enabled: false }), at(1));
          const c = await s.createSegment(seg('c', { recoveryMethod: 'auto', serviceType: 'other', enabled: false }), at(2));
          const ids = async (filters: object) => (await s.listSegments({ filters, sort: [], limit: 10 })).map((x) => x.id);
          assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
          assert.deepEqual(await ids({ recoveryMethod: 'auto' }), [c.id, a.id]);
          assert.deepEqual(await ids({ serviceType: 'compute' }), [b.id, a.id]);
          assert.deepEqual(await ids({ enabled: true }), [a.id]);
          assert.deepEqual(await ids({ enabled: false }), [c.id, b.id]);
          assert.deepEqual(await ids({ recoveryMethod: 'auto', enabled: false }), [c.id]);
          assert.deepEqual(await ids({ recoveryMethod: 'rh_priority' }), []);
        }),
      );

      test(
        'sorts by every key in both directions, and pages with markers without gaps or overlap',
        withStore(async (s) => {
          const rows: Segment[] = [];
          const methods = ['auto', 'reserved_host', 'auto_priority', 'rh_priority'] as const;
          for (let i = 0; i < 11; i++) {
            // Repeated values and NULLs on purpose, so tie-breaking and NULL ordering are exercised.
            let r = await s.createSegment(
              seg(`seg${(i * 7) % 11}`, {
                description: i % 3 === 0 ? null : `d${i % 4}`,
                recoveryMethod: methods[i % 4]!,
                serviceType: `svc${i % 2}`,
              }),
              at(i % 4 === 0 ? 0 : i), // duplicate created_at values
            );
            if (i % 2 === 1) r = await s.updateSegment(r.uuid, { serviceType: `svc${i % 3}` }, at(100 + (i % 3)));
            rows.push(r);
          }
          const getters: Record<string, Getter<Segment>> = {
            created_at: (r) => dateKey(r.createdAt),
            description: (r) => r.description,
            name: (r) => r.name,
            updated_at: (r) => dateKey(r.updatedAt),
            uuid: (r) => r.uuid,
            recovery_method: (r) => r.recoveryMethod,
            service_type: (r) => r.serviceType,
          };
          const list = (q: ListQuery<unknown>) => s.listSegments(q as ListQuery<object>);
          for (const [key, get] of Object.entries(getters)) {
            for (const dir of ['asc', 'desc'] as const) {
              const want = expectedOrder(rows, [{ get, dir }]);
              const got = (await s.listSegments({ filters: {}, sort: [{ key, dir }], limit: 100 })).map((r) => r.id);
              assert.deepEqual(got, want, `sort ${key} ${dir}`);
              assert.deepEqual(await pageThrough(list, { filters: {}, sort: [{ key, dir }] }, 3), want, `paging ${key} ${dir}`);
            }
          }
          const multi = [
            { key: 'description', dir: 'asc' as const },
            { key: 'updated_at', dir: 'desc' as const },
            { key: 'service_type', dir: 'asc' as const },
          ];
          const want = expectedOrder(
            rows,
            multi.map((m) => ({ get: getters[m.key]!, dir: m.dir })),
          );
          assert.deepEqual(
            (await s.listSegments({ filters: {}, sort: multi, limit: 100 })).map((r) => r.id),
            want,
          );
          for (const size of [1, 2, 4, 5]) {
            assert.deepEqual(await pageThrough(list, { filters: {}, sort: multi }, size), want, `multi-key paging by ${size}`);
          }
          // default order: created_at desc, id desc
          assert.deepEqual(
            (await s.listSegments({ filters: {}, sort: [], limit: 100 })).map((r) => r.id),
            expectedOrder(rows, [{ get: getters.created_at!, dir: 'desc' }]),
          );
        }),
      );

      test(
        'limit 0, unknown and deleted markers',
        withStore(async (s) => {
          const a = await s.createSegment(seg('a'), at(0));
          const b = await s.createSegment(seg('b'), at(1));
          assert.deepEqual(await s.listSegments({ filters: {}, sort: [], limit: 0 }), []);
          assert.deepEqual(
            (await s.listSegments({ filters: {}, sort: [], limit: 1 })).map((r) => r.id),
            [b.id],
          );
          assert.deepEqual(
            (await s.listSegments({ filters: {}, sort: [], limit: 5, marker: b.id })).map((r) => r.id),
            [a.id],
          );
          assert.deepEqual(await s.listSegments({ filters: {}, sort: [], limit: 5, marker: a.id }), []);
          await assert.rejects(s.listSegments({ filters: {}, sort: [], limit: 5, marker: 99999 }), (e: unknown) => {
            assert.ok(e instanceof MarkerNotFoundError);
            assert.equal(e.message, 'Marker 99999 could not be found.');
            assert.equal(e.status, 400);
            return true;
          });
          await s.deleteSegment(a.uuid, at(2));
          await assert.rejects(s.listSegments({ filters: {}, sort: [], limit: 5, marker: a.id }), MarkerNotFoundError);
        }),
      );
    });

    describe('hosts', () => {
      test(
        'create, get by uuid and name, update, delete',
        withStore(async (s) => {
          const sg = await s.createSegment(seg('seg'), at(0));
          const h = await s.createHost(sg.uuid, hostInput('node1', { reserved: true, controlAttributes: 'IPMI' }), at(1));
          assert.equal(h.segmentUuid, sg.uuid);
          assert.equal(h.reserved, true);
          assert.equal(h.onMaintenance, false);
          assert.equal(h.controlAttributes, 'IPMI');
          assert.deepEqual(await s.getHost(h.uuid), h);
          assert.deepEqual(await s.getHostByName('node1'), h);
          assert.equal(await s.getHostByName('nope'), undefined);
          const u = await s.updateHost(h.uuid, { onMaintenance: true, reserved: false }, at(2));
          assert.equal(u.onMaintenance, true);
          assert.equal(u.reserved, false);
          assert.equal(u.name, 'node1');
          assert.equal(microsOf(u.updatedAt!), microsOf(at(2)));
          await s.deleteHost(h.uuid, at(3));
          assert.equal(await s.getHost(h.uuid), undefined);
          await rejectsWith(s.deleteHost(h.uuid, at(4)), 404);
          await rejectsWith(s.updateHost(h.uuid, { reserved: true }, at(4)), 404);
          await rejectsWith(s.createHost(randomUUID(), hostInput('x'), at(4)), 404);
        }),
      );

      test(
        'names are unique across segments among live hosts; reusable after delete',
        withStore(async (s) => {
          const a = await s.createSegment(seg('a'), at(0));
          const b = await s.createSegment(seg('b'), at(0));
          const h = await s.createHost(a.uuid, hostInput('node1'), at(1));
          await rejectsWith(s.createHost(a.uuid, hostInput('node1'), at(2)), 409, 'Host with name node1 already exists.');
          await rejectsWith(s.createHost(b.uuid, hostInput('node1'), at(2)), 409, 'Host with name node1 already exists.');
          const h2 = await s.createHost(b.uuid, hostInput('node2'), at(2));
          await rejectsWith(s.updateHost(h2.uuid, { name: 'node1' }, at(3)), 409, 'Host with name node1 already exists.');
          await s.updateHost(h.uuid, { name: 'node1', type: 'other' }, at(3));
          await s.deleteHost(h.uuid, at(4));
          const again = await s.createHost(b.uuid, hostInput('node1'), at(5));
          assert.equal((await s.getHostByName('node1'))!.uuid, again.uuid);
        }),
      );

      test(
        "lists only the segment's hosts, with filters, sorts and paging",
        withStore(async (s) => {
          const a = await s.createSegment(seg('a'), at(0));
          const b = await s.createSegment(seg('b'), at(0));
          const rows: Host[] = [];
          for (let i = 0; i < 9; i++) {
            let h = await s.createHost(
              a.uuid,
              hostInput(`node${(i * 4) % 9}`, { type: `t${i % 2}`, reserved: i % 3 === 0, onMaintenance: i % 4 === 0 }),
              at(i % 3),
            );
            if (i % 2 === 0) h = await s.updateHost(h.uuid, { controlAttributes: 'x' }, at(50 + (i % 5)));
            rows.push(h);
          }
          await s.createHost(b.uuid, hostInput('elsewhere'), at(1));
          const q = (filters: object, sort: { key: string; dir: SortDir }[] = []) => ({
            filters: { segmentUuid: a.uuid, ...filters },
            sort,
            limit: 100,
          });
          const ids = async (filters: object) => (await s.listHosts(q(filters))).map((h) => h.id);
          const byDefault = (pred: (h: Host) => boolean) => expectedOrder(rows.filter(pred), [{ get: (r) => dateKey(r.createdAt), dir: 'desc' }]);
          assert.deepEqual(
            await ids({}),
            byDefault(() => true),
          );
          assert.deepEqual(
            await ids({ type: 't1' }),
            byDefault((h) => h.type === 't1'),
          );
          assert.deepEqual(
            await ids({ reserved: true }),
            byDefault((h) => h.reserved),
          );
          assert.deepEqual(
            await ids({ reserved: false }),
            byDefault((h) => !h.reserved),
          );
          assert.deepEqual(
            await ids({ onMaintenance: true }),
            byDefault((h) => h.onMaintenance),
          );
          assert.deepEqual(
            await ids({ onMaintenance: false, type: 't0' }),
            byDefault((h) => !h.onMaintenance && h.type === 't0'),
          );
          assert.deepEqual(
            (await s.listHostsOfSegment(a.uuid)).map((h) => h.id).sort((x, y) => x - y),
            rows.map((h) => h.id),
          );

          const getters: Record<string, Getter<Host>> = {
            created_at: (r) => dateKey(r.createdAt),
            type: (r) => r.type,
            name: (r) => r.name,
            updated_at: (r) => dateKey(r.updatedAt),
            uuid: (r) => r.uuid,
            reserved: (r) => boolKey(r.reserved),
            on_maintenance: (r) => boolKey(r.onMaintenance),
          };
          const list = (x: ListQuery<unknown>) => s.listHosts(x as ListQuery<{ segmentUuid: string }>);
          for (const [key, get] of Object.entries(getters)) {
            for (const dir of ['asc', 'desc'] as const) {
              const want = expectedOrder(rows, [{ get, dir }]);
              assert.deepEqual(
                (await s.listHosts(q({}, [{ key, dir }]))).map((h) => h.id),
                want,
                `sort ${key} ${dir}`,
              );
              assert.deepEqual(await pageThrough(list, { filters: { segmentUuid: a.uuid }, sort: [{ key, dir }] }, 2), want);
            }
          }
          const multi = [
            { key: 'reserved', dir: 'desc' as const },
            { key: 'updated_at', dir: 'asc' as const },
          ];
          const want = expectedOrder(
            rows,
            multi.map((m) => ({ get: getters[m.key]!, dir: m.dir })),
          );
          assert.deepEqual(await pageThrough(list, { filters: { segmentUuid: a.uuid }, sort: multi }, 2), want);
        }),
      );
    });

    describe('notifications', () => {
      test(
        'create stores status new, the payload as sent, and microsecond times',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const input = notif(h.uuid, { type: 'COMPUTE_HOST', t: at(0, 1), payload: { host_status: 'NORMAL', event: 'STOPPED', cluster_status: 'OFFLINE' } });
          const r = await s.createNotification(input, 180_000, at(5, 3));
          assert.equal(r.created, true);
          const n = (r as { notification: Notification }).notification;
          assert.equal(n.uuid, input.uuid);
          assert.equal(n.status, 'new');
          assert.equal(n.type, 'COMPUTE_HOST');
          assert.equal(n.sourceHostUuid, h.uuid);
          assert.deepEqual(Object.keys(n.payload), ['host_status', 'event', 'cluster_status']);
          assert.equal(microsOf(n.generatedTime), T0_US + 1);
          assert.equal(microsOf(n.createdAt), T0_US + 5000 + 3);
          assert.equal(n.claimedBy, null);
          assert.equal(n.attempts, 0);
          assert.equal(n.lastError, null);
          assert.deepEqual(await s.getNotification(n.uuid), n);
          assert.equal(await s.getNotification(randomUUID()), undefined);
        }),
      );

      test(
        'duplicate detection: same type, host and payload within the window on either side',
        withStore(async (s) => {
          const { sg, h } = await segmentWithHost(s);
          const other = await s.createHost(sg.uuid, hostInput('node2'), at(0));
          const W = 180_000;
          const payload = { event: 'LIFECYCLE', instance_uuid: 'abc', vir_domain_event: 'STOPPED_FAILED' };
          const first = await s.createNotification(notif(h.uuid, { payload, t: at(0) }), W, at(0));
          assert.ok(first.created);
          const firstUuid = first.notification.uuid;
          const isDup = async (over: Parameters<typeof notif>[1], host = h.uuid) => {
            const r = await s.createNotification(notif(host, over), W, at(1));
            if (!r.created) assert.equal(r.existing.uuid, firstUuid);
            return !r.created;
          };
          const reordered = { vir_domain_event: 'STOPPED_FAILED', instance_uuid: 'abc', event: 'LIFECYCLE' };
          assert.equal(await isDup({ payload, t: at(W) }), true, 'at +window');
          assert.equal(await isDup({ payload, t: at(-W) }), true, 'at -window');
          assert.equal(await isDup({ payload: reordered, t: at(1000) }), true, 'same payload, other key order');
          assert.equal(await isDup({ payload: { ...payload, instance_uuid: 'xyz' }, t: at(1) }), false, 'other payload');
          assert.equal(await isDup({ payload, type: 'PROCESS', t: at(1) }), false, 'other type');
          assert.equal(await isDup({ payload, t: at(1) }, other.uuid), false, 'other host');
          // Outside the window on both sides (the first one is still new): not duplicates.
          // (Use fresh payload variants for the later checks so the rows just created do not match.)
          const p2 = { ...payload, instance_uuid: 'w' };
          const base2 = await s.createNotification(notif(h.uuid, { payload: p2, t: at(0) }), W, at(1));
          assert.ok(base2.created);
          const after = await s.createNotification(notif(h.uuid, { payload: p2, t: at(W + 1) }), W, at(2));
          assert.equal(after.created, true, 'just after +window');
          const p3 = { ...payload, instance_uuid: 'v' };
          assert.ok((await s.createNotification(notif(h.uuid, { payload: p3, t: at(0) }), W, at(1))).created);
          assert.equal((await s.createNotification(notif(h.uuid, { payload: p3, t: at(-W - 1) }), W, at(2))).created, true, 'just before -window');
        }),
      );

      test(
        'a notification that already ended does not make a new identical one a duplicate',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const payload = { event: 'STOPPED', process_name: 'nova-compute' };
          const first = await s.createNotification(notif(h.uuid, { type: 'PROCESS', payload }), 180_000, at(0));
          assert.ok(first.created);
          await s.setNotificationStatus(first.notification.uuid, 'running', at(1));
          assert.equal((await s.createNotification(notif(h.uuid, { type: 'PROCESS', payload, t: at(2) }), 180_000, at(2))).created, false);
          await s.setNotificationStatus(first.notification.uuid, 'finished', at(3));
          assert.equal((await s.createNotification(notif(h.uuid, { type: 'PROCESS', payload, t: at(4) }), 180_000, at(4))).created, true);
        }),
      );

      test(
        'the same uuid twice is a conflict, not a second row',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const input = notif(h.uuid);
          assert.ok((await s.createNotification(input, 0, at(0))).created);
          await rejectsWith(s.createNotification({ ...input, payload: { other: 'x' } }, 0, at(1)), 409);
        }),
      );

      test(
        'status writes, last error, and findNotificationsByStatus (oldest first)',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const made: Notification[] = [];
          for (let i = 0; i < 5; i++) {
            const r = await s.createNotification(notif(h.uuid), 0, at(10 - i)); // created in reverse time order
            assert.ok(r.created);
            made.push(r.notification);
          }
          const u = await s.setNotificationStatus(made[0]!.uuid, 'error', at(20), 'nova down');
          assert.equal(u.status, 'error');
          assert.equal(u.lastError, 'nova down');
          assert.equal(microsOf(u.updatedAt!), microsOf(at(20)));
          const kept = await s.setNotificationStatus(made[0]!.uuid, 'running', at(21));
          assert.equal(kept.lastError, 'nova down', 'lastError undefined keeps it');
          assert.equal((await s.setNotificationStatus(made[0]!.uuid, 'running', at(22), null)).lastError, null);
          await s.setNotificationStatus(made[1]!.uuid, 'finished', at(20));
          await rejectsWith(s.setNotificationStatus(randomUUID(), 'finished', at(20)), 404);

          const found = await s.findNotificationsByStatus(['new', 'running'], 10);
          assert.deepEqual(
            found.map((n) => n.uuid),
            [made[4]!, made[3]!, made[2]!, made[0]!].map((n) => n.uuid),
          );
          assert.deepEqual(
            (await s.findNotificationsByStatus(['new'], 2)).map((n) => n.uuid),
            [made[4]!.uuid, made[3]!.uuid],
          );
          assert.deepEqual(await s.findNotificationsByStatus([], 10), []);
          assert.deepEqual(
            (await s.findNotificationsByStatus(['finished'], 10)).map((n) => n.uuid),
            [made[1]!.uuid],
          );
        }),
      );

      test(
        'list filters, sorts by every key, and pages',
        withStore(async (s) => {
          const { sg, h } = await segmentWithHost(s);
          const h2 = await s.createHost(sg.uuid, hostInput('node2'), at(0));
          const types: NotificationType[] = ['VM', 'PROCESS', 'COMPUTE_HOST'];
          const statuses = ['new', 'running', 'finished', 'error'] as const;
          const rows: Notification[] = [];
          for (let i = 0; i < 12; i++) {
            const r = await s.createNotification(
              notif(i % 2 ? h.uuid : h2.uuid, { type: types[i % 3]!, t: at(1000 * ((i * 5) % 12)), payload: { k: `p${i % 5}`, n: `${i}` } }),
              0,
              at(i % 5),
            );
            assert.ok(r.created);
            let n = r.notification;
            if (i % 4) n = await s.setNotificationStatus(n.uuid, statuses[i % 4]!, at(100 + (i % 3)));
            rows.push(n);
          }
          const ids = async (filters: object) => (await s.listNotifications({ filters, sort: [], limit: 100 })).map((n) => n.id);
          const byDefault = (pred: (n: Notification) => boolean) => expectedOrder(rows.filter(pred), [{ get: (r) => dateKey(r.createdAt), dir: 'desc' }]);
          assert.deepEqual(
            await ids({}),
            byDefault(() => true),
          );
          assert.deepEqual(
            await ids({ status: 'running' }),
            byDefault((n) => n.status === 'running'),
          );
          assert.deepEqual(
            await ids({ type: 'PROCESS' }),
            byDefault((n) => n.type === 'PROCESS'),
          );
          assert.deepEqual(
            await ids({ statuses: ['new', 'error'] }),
            byDefault((n) => n.status === 'new' || n.status === 'error'),
          );
          assert.deepEqual(await ids({ statuses: [] }), []);
          assert.deepEqual(
            await ids({ statuses: ['new', 'error'], status: 'error' }),
            byDefault((n) => n.status === 'error'),
          );
          assert.deepEqual(
            await pageThrough((x) => s.listNotifications(x as ListQuery<object>), { filters: { statuses: ['running', 'finished'] }, sort: [] }, 2),
            byDefault((n) => n.status === 'running' || n.status === 'finished'),
          );
          assert.deepEqual(
            await ids({ sourceHostUuid: h.uuid }),
            byDefault((n) => n.sourceHostUuid === h.uuid),
          );
          const since = at(6000);
          assert.deepEqual(
            await ids({ generatedSince: since }),
            byDefault((n) => microsOf(n.generatedTime) >= microsOf(since)),
          );
          assert.deepEqual(
            await ids({ status: 'new', sourceHostUuid: h2.uuid, generatedSince: at(0) }),
            byDefault((n) => n.status === 'new' && n.sourceHostUuid === h2.uuid),
          );

          const getters: Record<string, Getter<Notification>> = {
            created_at: (r) => dateKey(r.createdAt),
            type: (r) => r.type,
            generated_time: (r) => dateKey(r.generatedTime),
            updated_at: (r) => dateKey(r.updatedAt),
            uuid: (r) => r.uuid,
            status: (r) => r.status,
            source_host_uuid: (r) => r.sourceHostUuid,
            payload: (r) => JSON.stringify(r.payload),
          };
          const list = (x: ListQuery<unknown>) => s.listNotifications(x as ListQuery<object>);
          for (const [key, get] of Object.entries(getters)) {
            for (const dir of ['asc', 'desc'] as const) {
              const want = expectedOrder(rows, [{ get, dir }]);
              assert.deepEqual(
                (await s.listNotifications({ filters: {}, sort: [{ key, dir }], limit: 100 })).map((n) => n.id),
                want,
                `sort ${key} ${dir}`,
              );
              assert.deepEqual(await pageThrough(list, { filters: {}, sort: [{ key, dir }] }, 5), want, `paging ${key} ${dir}`);
            }
          }
          // paging with a filter
          const want = byDefault((n) => n.sourceHostUuid === h.uuid);
          assert.deepEqual(await pageThrough(list, { filters: { sourceHostUuid: h.uuid }, sort: [] }, 2), want);
          await assert.rejects(s.listNotifications({ filters: {}, sort: [], limit: 5, marker: 424242 }), MarkerNotFoundError);
          await rejectsWith(s.listNotifications({ filters: {}, sort: [{ key: 'bogus', dir: 'asc' }], limit: 5 }), 400);
        }),
      );
    });

    describe('engine leases', () => {
      test(
        'a notification is claimed by one owner until its lease expires',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const r = await s.createNotification(notif(h.uuid), 0, at(0));
          assert.ok(r.created);
          const uuid = r.notification.uuid;
          const a = await s.claimNotification(uuid, 'ctl-a', 10_000, at(1), true);
          assert.ok(a);
          assert.equal(a.claimedBy, 'ctl-a');
          assert.equal(microsOf(a.claimExpiresAt!), microsOf(at(10_001)));
          assert.equal(a.attempts, 1);
          assert.equal(await s.claimNotification(uuid, 'ctl-b', 10_000, at(2), true), undefined);
          const again = await s.claimNotification(uuid, 'ctl-a', 10_000, at(3), false);
          assert.equal(again?.attempts, 1, 'the owner re-claims without counting an attempt');
          assert.equal(await s.renewNotificationClaim(uuid, 'ctl-a', 10_000, at(5000)), true);
          assert.equal(await s.renewNotificationClaim(uuid, 'ctl-b', 10_000, at(5000)), false);
          // still held just before the renewed expiry (5000 + 10000), free after it
          assert.equal(await s.claimNotification(uuid, 'ctl-b', 10_000, at(14_999), true), undefined);
          const b = await s.claimNotification(uuid, 'ctl-b', 10_000, at(15_001), true);
          assert.equal(b?.claimedBy, 'ctl-b');
          assert.equal(b?.attempts, 2);
          assert.equal(await s.renewNotificationClaim(uuid, 'ctl-a', 10_000, at(15_002)), false, 'the old owner lost it');
          await s.releaseNotificationClaim(uuid, 'ctl-a'); // not the owner: no effect
          assert.equal((await s.getNotification(uuid))!.claimedBy, 'ctl-b');
          await s.releaseNotificationClaim(uuid, 'ctl-b');
          const free = await s.getNotification(uuid);
          assert.equal(free!.claimedBy, null);
          assert.equal(free!.claimExpiresAt, null);
          assert.ok(await s.claimNotification(uuid, 'ctl-a', 10_000, at(15_003), true));
          assert.equal(await s.claimNotification(randomUUID(), 'ctl-a', 10_000, at(1), true), undefined);
        }),
      );

      test(
        'claims race: exactly one of many concurrent claimers wins',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const r = await s.createNotification(notif(h.uuid), 0, at(0));
          assert.ok(r.created);
          const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.claimNotification(r.notification.uuid, `ctl-${i}`, 60_000, at(1), true)));
          assert.equal(results.filter(Boolean).length, 1);
        }),
      );

      test(
        'host recovery: one notification per host at a time',
        withStore(async (s) => {
          assert.equal(await s.claimHostRecovery('node1', 'n1', 'ctl-a', 10_000, at(0)), true);
          assert.equal(await s.claimHostRecovery('node1', 'n2', 'ctl-b', 10_000, at(1)), false);
          assert.equal(await s.claimHostRecovery('node1', 'n1', 'ctl-b', 10_000, at(1)), false, 'another owner, same notification');
          assert.equal(await s.claimHostRecovery('node1', 'n1', 'ctl-a', 10_000, at(5000)), true, 'the holder renews');
          assert.equal(await s.claimHostRecovery('node2', 'n2', 'ctl-b', 10_000, at(1)), true, 'other hosts are independent');
          assert.equal(await s.claimHostRecovery('node1', 'n2', 'ctl-b', 10_000, at(14_999)), false);
          assert.equal(await s.claimHostRecovery('node1', 'n2', 'ctl-b', 10_000, at(15_001)), true, 'after expiry');
          await s.releaseHostRecovery('node1', 'n1'); // not the holder's notification: no effect
          assert.equal(await s.claimHostRecovery('node1', 'n3', 'ctl-c', 10_000, at(15_002)), false);
          await s.releaseHostRecovery('node1', 'n2');
          assert.equal(await s.claimHostRecovery('node1', 'n3', 'ctl-c', 10_000, at(15_003)), true);
        }),
      );

      test(
        'settleNewNotification: a new, unclaimed notification ends in one write; anything else is left alone',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const create = async (i: number) => {
            const r = await s.createNotification(
              notif(h.uuid, { payload: { event: 'LIFECYCLE', instance_uuid: randomUUID(), vir_domain_event: `E${i}` } }),
              0,
              at(0),
            );
            assert.ok(r.created);
            return r.notification.uuid;
          };
          const free = await create(1);
          const settled = await s.settleNewNotification(free, 'ignored', at(2), 'no recovery needed');
          assert.equal(settled?.status, 'ignored');
          assert.equal(settled?.lastError, 'no recovery needed');
          assert.equal(microsOf(settled.updatedAt!), microsOf(at(2)));
          assert.equal(settled?.attempts, 1);
          assert.equal(settled?.claimedBy, null);
          assert.equal(await s.settleNewNotification(free, 'finished', at(3), null), undefined, 'no longer new');
          assert.equal((await s.getNotification(free))!.status, 'ignored');

          const held = await create(2);
          assert.ok(await s.claimNotification(held, 'ctl-a', 10_000, at(1), true));
          assert.equal(await s.settleNewNotification(held, 'ignored', at(2), null), undefined, 'a live claim wins');
          assert.equal((await s.getNotification(held))!.status, 'new');
          const afterExpiry = await s.settleNewNotification(held, 'ignored', at(10_002), null);
          assert.equal(afterExpiry?.status, 'ignored', 'an expired claim does not block');
          assert.equal(await s.settleNewNotification(randomUUID(), 'ignored', at(1), null), undefined);

          // Racing a claimer: exactly one of them gets it as a NEW notification (a claimer that comes second sees the
          // final status and skips it, as the engine does).
          for (const order of [0, 1]) {
            const raced = await create(3 + order);
            const claim = () => s.claimNotification(raced, 'ctl-b', 10_000, at(1), true);
            const settle = () => s.settleNewNotification(raced, 'ignored', at(1), null);
            let claimed: Notification | undefined, settled: Notification | undefined;
            if (order === 0) [claimed, settled] = await Promise.all([claim(), settle()]);
            else [settled, claimed] = await Promise.all([settle(), claim()]);
            assert.equal(Number(claimed?.status === 'new') + Number(settled !== undefined), 1, `order ${order}`);
          }
        }),
      );

      test(
        'finishNotification: final status and both claims released in one write; only our claim',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const r = await s.createNotification(notif(h.uuid), 0, at(0));
          assert.ok(r.created);
          const uuid = r.notification.uuid;
          assert.ok(await s.claimNotification(uuid, 'ctl-a', 10_000, at(1), true));
          assert.equal(await s.claimHostRecovery('node1', uuid, 'ctl-a', 10_000, at(1)), true);
          assert.equal(await s.claimHostRecovery('node2', 'other', 'ctl-a', 10_000, at(1)), true);
          const done = await s.finishNotification(uuid, 'error', at(2), 'boom', { owner: 'ctl-a', hostKey: 'node1' });
          assert.equal(done.status, 'error');
          assert.equal(done.lastError, 'boom');
          assert.equal(done.claimedBy, null);
          assert.equal(done.claimExpiresAt, null);
          assert.equal(await s.claimHostRecovery('node1', 'n-next', 'ctl-b', 10_000, at(3)), true, 'the host claim is gone');
          assert.equal(await s.claimHostRecovery('node2', 'n-next', 'ctl-b', 10_000, at(3)), false, 'other hosts keep theirs');
          // Someone else's claim is left alone (a controller that lost its lease must not drop the new owner's).
          assert.ok(await s.claimNotification(uuid, 'ctl-b', 10_000, at(4), true));
          const kept = await s.finishNotification(uuid, 'failed', at(5), undefined, { owner: 'ctl-a' });
          assert.equal(kept.status, 'failed');
          assert.equal(kept.lastError, 'boom', 'undefined leaves last_error as it was');
          assert.equal(kept.claimedBy, 'ctl-b');
          await assert.rejects(s.finishNotification(randomUUID(), 'finished', at(6), null, { owner: 'ctl-a' }), (e: any) => e.status === 404);
        }),
      );
    });

    describe('workflow tasks', () => {
      test(
        'append numbers tasks in order; update keeps details in order',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const r = await s.createNotification(notif(h.uuid), 0, at(0));
          assert.ok(r.created);
          const n = r.notification.uuid;
          const s1 = await s.appendTask(n, 'DisableComputeServiceTask', 'RUNNING', at(1));
          const s2 = await s.appendTask(n, 'PrepareHAEnabledInstancesTask', 'PENDING', at(2));
          assert.equal(s2, s1 + 1);
          await s.updateTask(n, s1, { addDetail: { timestamp: at(3, 7), message: 'Disabling', progress: 0 } }, at(3));
          await s.updateTask(n, s1, { addDetail: { timestamp: at(4), message: 'Disabled', progress: 1 }, progress: 1, state: 'SUCCESS' }, at(4));
          await s.updateTask(n, s2, { result: { instances: ['a', 'b'] } }, at(5));
          const tasks = await s.listTasks(n);
          assert.deepEqual(
            tasks.map((t) => [t.seq, t.name, t.state, t.progress]),
            [
              [s1, 'DisableComputeServiceTask', 'SUCCESS', 1],
              [s2, 'PrepareHAEnabledInstancesTask', 'PENDING', 0],
            ],
          );
          assert.deepEqual(
            tasks[0]!.details.map((d) => [d.message, d.progress, microsOf(d.timestamp)]),
            [
              ['Disabling', 0, microsOf(at(3, 7))],
              ['Disabled', 1, microsOf(at(4))],
            ],
          );
          assert.equal(microsOf(tasks[0]!.updatedAt), microsOf(at(4)));
          assert.deepEqual(tasks[1]!.result, { instances: ['a', 'b'] });
          assert.deepEqual(tasks[1]!.details, []);
          // a retry appends after the existing ones
          assert.equal(await s.appendTask(n, 'DisableComputeServiceTask', 'RUNNING', at(6)), s2 + 1);
          assert.deepEqual(await s.listTasks(randomUUID()), []);
          await rejectsWith(s.updateTask(n, 999, { state: 'FAILURE' }, at(7)), 404);
          await rejectsWith(s.appendTask(randomUUID(), 'x', 'PENDING', at(7)), 404);
        }),
      );
      test(
        "a workflow's writes fenced by its lease commit only while its owner holds the claim, unexpired",
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const r = await s.createNotification(notif(h.uuid, { type: 'COMPUTE_HOST', payload: { event: 'STOPPED' } }), 0, at(0));
          assert.ok(r.created);
          const n = r.notification.uuid;
          const a = { notificationUuid: n, owner: 'ctl-a' };
          const b = { notificationUuid: n, owner: 'ctl-b' };
          const lost = (p: Promise<unknown>) => assert.rejects(p, (e: any) => e.code === 'LEASE_LOST' && e.message.includes('ctl-a'));
          const move = { notificationUuid: n, instanceName: null, sourceHost: 'node1', destHost: null, type: 'evacuation', status: 'pending' } as const;
          // unclaimed: refused
          await lost(s.appendTask(n, 'EvacuateInstancesTask', 'RUNNING', at(1), a));
          assert.ok(await s.claimNotification(n, 'ctl-a', 10_000, at(1), true));
          const seq = await s.appendTask(n, 'EvacuateInstancesTask', 'RUNNING', at(2), a);
          await s.updateTask(n, seq, { result: { checkpoint: 1 } }, at(3), a);
          const v = await s.createVMove({ ...move, instanceUuid: 'inst-1' }, at(3), a);
          await s.updateVMove(v.uuid, { status: 'ongoing' }, at(4), a);
          // the lease ran out (at 10_001 ms), nobody took it yet: refused all the same
          await lost(s.updateTask(n, seq, { result: { checkpoint: 2 } }, at(12_000), a));
          // ctl-b takes the workflow over: every write of ctl-a is refused and changes nothing
          assert.ok(await s.claimNotification(n, 'ctl-b', 10_000, at(12_000), false));
          await lost(s.updateTask(n, seq, { result: { checkpoint: 3 }, state: 'FAILURE' }, at(13_000), a));
          await lost(s.appendTask(n, 'EvacuateInstancesTask', 'RUNNING', at(13_000), a));
          await lost(s.createVMove({ ...move, instanceUuid: 'inst-2' }, at(13_000), a));
          await lost(s.updateVMove(v.uuid, { status: 'succeeded' }, at(13_000), a));
          let tasks = await s.listTasks(n);
          assert.deepEqual(
            tasks.map((t) => [t.seq, t.state, t.result]),
            [[seq, 'RUNNING', { checkpoint: 1 }]],
          );
          const moves = await s.listVMoves({ filters: { notificationUuid: n }, sort: [], limit: 10 });
          assert.deepEqual(
            moves.map((m) => [m.instanceUuid, m.status]),
            [['inst-1', 'ongoing']],
          );
          // the holder's writes pass; the claim stays as it was (owner, and a lease not shortened)
          await s.updateTask(n, seq, { result: { checkpoint: 4 } }, at(14_000), b);
          await s.updateVMove(v.uuid, { status: 'succeeded' }, at(14_000), b);
          tasks = await s.listTasks(n);
          assert.deepEqual(tasks[0]!.result, { checkpoint: 4 });
          const held = (await s.getNotification(n))!;
          assert.equal(held.claimedBy, 'ctl-b');
          assert.ok(microsOf(held.claimExpiresAt!) >= microsOf(at(22_000)));
          // writes without a fence (the API, the engine's own bookkeeping) are not conditioned
          await s.updateTask(n, seq, { progress: 0.5 }, at(15_000));
        }),
      );
    });

    describe('vmoves', () => {
      test(
        'create, update, get, list with filters, sorts and paging',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          const r = await s.createNotification(notif(h.uuid, { type: 'COMPUTE_HOST', payload: { event: 'STOPPED' } }), 0, at(0));
          const r2 = await s.createNotification(notif(h.uuid, { type: 'COMPUTE_HOST', payload: { event: 'STOPPED', x: 'y' } }), 0, at(0));
          assert.ok(r.created && r2.created);
          const n = r.notification.uuid;
          const made: VMove[] = [];
          for (let i = 0; i < 7; i++) {
            let v = await s.createVMove(
              {
                notificationUuid: n,
                instanceUuid: `inst-${i}`,
                instanceName: i % 2 ? `vm${i}` : null,
                sourceHost: 'node1',
                destHost: null,
                type: i % 3 === 0 ? 'evacuation' : 'live_migration',
                status: 'pending',
              },
              at(i % 3),
            );
            if (i % 2 === 0) v = await s.updateVMove(v.uuid, { status: 'ongoing', startTime: at(10 + (i % 4)), destHost: 'node2' }, at(20 + i));
            made.push(v);
          }
          await s.createVMove(
            {
              notificationUuid: r2.notification.uuid,
              instanceUuid: 'other',
              instanceName: null,
              sourceHost: 'node1',
              destHost: null,
              type: 'evacuation',
              status: 'pending',
            },
            at(0),
          );
          const done = await s.updateVMove(made[0]!.uuid, { status: 'succeeded', endTime: at(30), message: 'ok' }, at(30));
          made[0] = done;
          assert.equal(done.destHost, 'node2');
          assert.equal(microsOf(done.startTime!), microsOf(at(10)));
          assert.equal(microsOf(done.endTime!), microsOf(at(30)));
          assert.equal(done.message, 'ok');
          assert.deepEqual(await s.getVMove(n, done.uuid), done);
          assert.equal(await s.getVMove(r2.notification.uuid, done.uuid), undefined, 'wrong notification');
          await rejectsWith(s.updateVMove(randomUUID(), { status: 'failed' }, at(1)), 404);
          await rejectsWith(
            s.createVMove(
              { notificationUuid: randomUUID(), instanceUuid: 'i', instanceName: null, sourceHost: 'h', destHost: null, type: 'evacuation', status: 'pending' },
              at(1),
            ),
            404,
          );

          const ids = async (filters: object) => (await s.listVMoves({ filters: { notificationUuid: n, ...filters }, sort: [], limit: 100 })).map((v) => v.id);
          const byDefault = (pred: (v: VMove) => boolean) => expectedOrder(made.filter(pred), [{ get: (x) => dateKey(x.createdAt), dir: 'desc' }]);
          assert.deepEqual(
            await ids({}),
            byDefault(() => true),
          );
          assert.deepEqual(
            await ids({ status: 'ongoing' }),
            byDefault((v) => v.status === 'ongoing'),
          );
          assert.deepEqual(
            await ids({ type: 'evacuation' }),
            byDefault((v) => v.type === 'evacuation'),
          );
          const getters: Record<string, Getter<VMove>> = {
            created_at: (x) => dateKey(x.createdAt),
            updated_at: (x) => dateKey(x.updatedAt),
            uuid: (x) => x.uuid,
            start_time: (x) => dateKey(x.startTime),
            type: (x) => x.type,
            status: (x) => x.status,
          };
          const list = (x: ListQuery<unknown>) => s.listVMoves(x as ListQuery<{ notificationUuid: string }>);
          for (const [key, get] of Object.entries(getters)) {
            for (const dir of ['asc', 'desc'] as const) {
              const want = expectedOrder(made, [{ get, dir }]);
              assert.deepEqual(await pageThrough(list, { filters: { notificationUuid: n }, sort: [{ key, dir }] }, 2), want, `${key} ${dir}`);
            }
          }
        }),
      );
    });

    describe('agent heartbeats', () => {
      test(
        'the latest heartbeat per host, replaced by the next, with its receive time',
        withStore(async (s) => {
          const hb = (host: string, version: string) => ({
            host,
            version,
            interval_seconds: 10,
            sent_at: '2026-01-01T00:00:00.000Z',
            monitors: { instance: { libvirt: { connected: true, since: '2026-01-01T00:00:00.000Z', reason: null } } },
            outbox: { pending: 1, rejected: 0, oldest_pending_age_seconds: 2.5 },
          });
          assert.deepEqual(await s.listHeartbeats(), []);
          await s.recordHeartbeat(hb('n2', '1'), at(1));
          await s.recordHeartbeat(hb('n1', '1'), at(2));
          await s.recordHeartbeat(hb('n2', '2'), at(3));
          const list = await s.listHeartbeats();
          assert.deepEqual(
            list.map((x) => [x.host, x.heartbeat.version, x.receivedAt.getTime()]),
            [
              ['n1', '1', at(2).getTime()],
              ['n2', '2', at(3).getTime()],
            ],
          );
          assert.deepEqual(list[1]!.heartbeat, hb('n2', '2'));
        }),
      );
    });

    describe('purge', () => {
      test(
        'removes old soft-deleted rows and old finished notifications with their tasks and vmoves',
        withStore(async (s) => {
          const DAY = 86_400_000;
          const { sg, h } = await segmentWithHost(s, 'keep', 'live-node');
          const gone = await s.createSegment(seg('gone'), at(0));
          await s.createHost(gone.uuid, hostInput('gone-node'), at(0));
          await s.deleteSegment(gone.uuid, at(DAY));
          const deletedHost = await s.createHost(sg.uuid, hostInput('deleted-node'), at(0));
          await s.deleteHost(deletedHost.uuid, at(DAY));
          const recentlyDeleted = await s.createSegment(seg('recent'), at(0));
          await s.deleteSegment(recentlyDeleted.uuid, at(20 * DAY));

          const mk = async (status: 'finished' | 'failed' | 'ignored' | 'error' | 'running', updated: number) => {
            const r = await s.createNotification(notif(h.uuid), 0, at(0));
            assert.ok(r.created);
            await s.setNotificationStatus(r.notification.uuid, status, at(updated));
            return r.notification.uuid;
          };
          const oldFinished = await mk('finished', DAY);
          const oldFailed = await mk('failed', DAY);
          const oldIgnored = await mk('ignored', DAY);
          const oldError = await mk('error', DAY);
          const oldRunning = await mk('running', DAY);
          const recentFinished = await mk('finished', 20 * DAY);
          await s.appendTask(oldFinished, 't', 'SUCCESS', at(DAY));
          await s.appendTask(oldFinished, 't2', 'SUCCESS', at(DAY));
          await s.appendTask(recentFinished, 't', 'SUCCESS', at(DAY));
          await s.createVMove(
            {
              notificationUuid: oldFinished,
              instanceUuid: 'i',
              instanceName: null,
              sourceHost: 'live-node',
              destHost: null,
              type: 'evacuation',
              status: 'succeeded',
            },
            at(DAY),
          );

          assert.ok(await s.claimHostRecovery('stale-node', oldError, 'crashed-ctl', 1000, at(DAY)));
          assert.ok(await s.claimHostRecovery('busy-node', oldRunning, 'ctl', 30 * DAY, at(DAY)));
          const counts = await s.purge(at(10 * DAY), -1);
          assert.equal(counts.host_recovery_claims, 1, 'only the lease that expired before the cutoff');
          assert.equal(await s.claimHostRecovery('busy-node', oldRunning, 'other', 1000, at(11 * DAY)), false, 'live lease kept');
          assert.equal(counts.notifications, 3);
          assert.equal(counts.workflow_tasks, 2);
          assert.equal(counts.vmoves, 1);
          assert.equal(counts.hosts, 2);
          assert.equal(counts.failover_segments, 1);
          for (const u of [oldFinished, oldFailed, oldIgnored]) assert.equal(await s.getNotification(u), undefined);
          for (const u of [oldError, oldRunning, recentFinished]) assert.ok(await s.getNotification(u));
          assert.equal((await s.listTasks(recentFinished)).length, 1);
          assert.ok(await s.getSegment(sg.uuid));
          assert.ok(await s.getHost(h.uuid));
          // a second run finds nothing more
          const again = await s.purge(at(10 * DAY), -1);
          assert.equal(
            Object.values(again).reduce((a, b) => a + b, 0),
            0,
          );
          // the recently deleted segment goes once the cutoff passes it
          assert.equal((await s.purge(at(30 * DAY), -1)).failover_segments, 1);
        }),
      );

      test(
        'maxRows bounds each table per run',
        withStore(async (s) => {
          const { h } = await segmentWithHost(s);
          for (let i = 0; i < 5; i++) {
            const r = await s.createNotification(notif(h.uuid), 0, at(0));
            assert.ok(r.created);
            await s.setNotificationStatus(r.notification.uuid, 'finished', at(0));
          }
          assert.equal((await s.purge(at(1000), 2)).notifications, 2);
          assert.equal((await s.purge(at(1000), 2)).notifications, 2);
          assert.equal((await s.purge(at(1000), 2)).notifications, 1);
          assert.equal((await s.purge(at(1000), 2)).notifications, 0);
        }),
      );
    });

    describe('importRecords (db import-masakari)', () => {
      const segUuid = 'aaaaaaaa-0000-4000-8000-000000000001';
      const goneSegUuid = 'aaaaaaaa-0000-4000-8000-000000000002';
      const hostUuid = 'bbbbbbbb-0000-4000-8000-000000000001';
      const notifUuid = 'cccccccc-0000-4000-8000-000000000001';
      const vmoveUuid = 'dddddddd-0000-4000-8000-000000000001';
      const batch = (): ImportBatch => ({
        segments: [
          {
            id: 7,
            uuid: segUuid,
            created_at: T0_US,
            updated_at: T0_US + 5,
            deleted_at: null,
            deleted: 0,
            name: 'imported',
            description: 'kept',
            recovery_method: 'rh_priority',
            service_type: 'COMPUTE',
            enabled: 0,
          },
          {
            id: 8,
            uuid: goneSegUuid,
            created_at: T0_US,
            updated_at: null,
            deleted_at: T0_US + 9,
            deleted: 1,
            name: 'seg',
            description: null,
            recovery_method: 'auto',
            service_type: 'COMPUTE',
            enabled: 1,
          },
        ],
        hosts: [
          {
            id: 3,
            uuid: hostUuid,
            created_at: T0_US + 1,
            updated_at: null,
            deleted_at: null,
            deleted: 0,
            name: 'imported-host',
            type: 'COMPUTE',
            control_attributes: 'SSH',
            reserved: 1,
            on_maintenance: 1,
            failover_segment_id: segUuid,
          },
        ],
        notifications: [
          {
            id: 11,
            uuid: notifUuid,
            created_at: T0_US + 2,
            updated_at: T0_US + 3,
            deleted_at: null,
            deleted: 0,
            type: 'VM',
            generated_time: T0_US + 4,
            source_host_uuid: hostUuid,
            payload: '{"event":"LIFECYCLE"}',
            status: 'running',
            claimed_by: null,
            claim_expires_at: null,
            attempts: 0,
            last_error: null,
          },
        ],
        tasks: [
          {
            notification_uuid: notifUuid,
            seq: 1,
            name: 'StopInstanceTask',
            state: 'SUCCESS',
            progress: 1,
            details: JSON.stringify([{ t: T0_US + 6, m: 'Stopped', p: 1 }]),
            result: null,
            updated_at: T0_US + 6,
          },
        ],
        vmoves: [
          {
            id: 2,
            uuid: vmoveUuid,
            created_at: T0_US + 7,
            updated_at: null,
            deleted_at: null,
            deleted: 0,
            notification_uuid: notifUuid,
            instance_uuid: 'eeeeeeee-0000-4000-8000-000000000001',
            instance_name: 'vm',
            source_host: 'imported-host',
            dest_host: null,
            start_time: T0_US + 8,
            end_time: null,
            status: 'ongoing',
            type: 'evacuation',
            message: null,
          },
        ],
      });

      test(
        'keeps UUIDs, ids, times and flags; deleted rows stay invisible; a dry run writes nothing',
        withStore(async (s) => {
          const dry = await s.importRecords(batch(), { dryRun: true });
          assert.deepEqual([dry.written, dry.conflicts.length], [false, 0]);
          assert.equal(await s.getSegment(segUuid), undefined);
          const r = await s.importRecords(batch(), { dryRun: false });
          assert.deepEqual([r.written, r.conflicts], [true, []]);
          assert.deepEqual(r.counts, { failover_segments: 2, hosts: 1, notifications: 1, workflow_tasks: 1, vmoves: 1 });
          const sg = (await s.getSegment(segUuid))!;
          assert.deepEqual(
            [sg.id, sg.name, sg.description, sg.recoveryMethod, sg.enabled, microsOf(sg.updatedAt!)],
            [7, 'imported', 'kept', 'rh_priority', false, T0_US + 5],
          );
          assert.equal(await s.getSegment(goneSegUuid), undefined, 'a deleted segment stays deleted');
          const h = (await s.getHost(hostUuid))!;
          assert.deepEqual([h.id, h.reserved, h.onMaintenance, h.segmentUuid], [3, true, true, segUuid]);
          const n = (await s.getNotification(notifUuid))!;
          assert.deepEqual([n.id, n.status, n.payload, microsOf(n.generatedTime), n.claimedBy], [11, 'running', { event: 'LIFECYCLE' }, T0_US + 4, null]);
          const tasks = await s.listTasks(notifUuid);
          assert.deepEqual(
            tasks.map((t) => [t.name, t.state, t.details.map((d) => [d.message, microsOf(d.timestamp)])]),
            [['StopInstanceTask', 'SUCCESS', [['Stopped', T0_US + 6]]]],
          );
          assert.equal((await s.getVMove(notifUuid, vmoveUuid))?.id, 2);
          // A live segment may reuse the name of a deleted one, as through the API.
          await s.createSegment(seg('seg'), at(1));
        }),
      );

      test(
        'a taken UUID (even of a deleted row) or live name refuses the whole batch; a taken id is renumbered',
        withStore(async (s) => {
          const clash = await s.createSegment(seg('imported-host-seg'), at(0));
          await s.createHost(clash.uuid, hostInput('imported-host'), at(0));
          const refused = await s.importRecords(batch(), { dryRun: false });
          assert.equal(refused.written, false);
          assert.deepEqual(
            refused.conflicts.map((c) => [c.kind, c.uuid, c.name]),
            [['host', hostUuid, 'imported-host']],
          );
          assert.match(refused.conflicts[0]!.reason, /live host named "imported-host"/);
          assert.equal(await s.getSegment(segUuid), undefined, 'nothing was written');

          const other = await open();
          try {
            // The target's own row has id 1 (first insert); an imported row with id 1 gets another id.
            const own = await other.createSegment(seg('own'), at(0));
            const b = batch();
            b.segments[0]!.id = own.id;
            const r = await other.importRecords(b, { dryRun: false });
            assert.equal(r.written, true);
            assert.equal(r.renumbered.failover_segments, 1);
            const imported = (await other.getSegment(segUuid))!;
            assert.notEqual(imported.id, own.id);
            await other.deleteSegment(own.uuid, at(2));
            b.segments = [{ ...b.segments[1]!, uuid: own.uuid, name: 'whatever' }];
            const again = await other.importRecords({ ...b, hosts: [], notifications: [], tasks: [], vmoves: [] }, { dryRun: true });
            assert.deepEqual(
              again.conflicts.map((c) => c.reason),
              [`the target already has a failover segment with UUID ${own.uuid} ("own", deleted)`],
            );
          } finally {
            await other.close();
          }
        }),
      );
    });
  });
}
