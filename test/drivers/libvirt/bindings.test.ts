// The koffi bindings against libvirt's own in-process test driver (test:///default): real libvirt, no daemon.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { requireComponent } from '../../support/components.ts';
import {
  DomainState,
  ErrorCode,
  closesSettled,
  eventLoopState,
  LibvirtConnection,
  LibvirtError,
  libvirtAvailable,
  LifecycleEvent,
  StoppedDetail,
  type EventOf,
} from '../../../src/drivers/libvirt/index.ts';

const HAVE = libvirtAvailable();
const COMPONENT = 'libvirt client library (Debian libvirt0)';
const NS = 'https://masakari.dev/xmlns/ha/1';

function testDomainXml(name: string, uuid: string): string {
  // The test driver accepts any hvm domain; nothing runs.
  return `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;
}

function waitFor<T>(what: string, get: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const tick = () => {
      const v = get();
      if (v !== undefined) return resolve(v);
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describe('libvirt bindings on test:///default', () => {
  const opened: LibvirtConnection[] = [];
  const open = (readOnly = false) => {
    const c = LibvirtConnection.open('test:///default', { readOnly });
    opened.push(c);
    return c;
  };
  after(() => {
    for (const c of opened) c.close();
  });

  test('lists the built-in domain and looks it up by name and UUID', (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = open();
    const all = c.listDomainSummaries();
    const builtIn = all.find((d) => d.name === 'test');
    assert.ok(builtIn, `test driver's domain "test" listed: ${JSON.stringify(all)}`);
    assert.match(builtIn.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const byName = c.lookupByName('test');
    const byUuid = c.lookupByUUID(builtIn.uuid);
    assert.ok(byName && byUuid);
    assert.equal(byName.uuid(), builtIn.uuid);
    assert.equal(byUuid.name(), 'test');
    assert.match(byName.xml(), /<name>test<\/name>/);
    byName.free();
    byUuid.free();
    byUuid.free(); // twice is harmless
    assert.equal(c.lookupByName('no-such-domain'), null);
    assert.equal(c.lookupByUUID(randomUUID()), null);
  });

  test('define, start, destroy and undefine produce lifecycle events with the right codes', async (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = open();
    const events: EventOf<'lifecycle'>[] = [];
    const uuid = randomUUID();
    const sub = c.onDomainEvent('lifecycle', (ev) => {
      if (ev.domain.uuid === uuid) events.push(ev);
    });
    const d = c.defineXML(testDomainXml('bind-life', uuid));
    assert.equal(d.uuid(), uuid);
    assert.equal(d.isPersistent(), true);
    assert.equal(d.state().stateName, 'SHUTOFF');
    assert.equal(d.id(), null);

    await d.start();
    assert.equal(d.state().state, DomainState.RUNNING);
    assert.equal(d.isActive(), true);
    assert.ok((d.id() ?? -1) > 0);
    const info = d.info();
    assert.equal(info.state, DomainState.RUNNING);
    assert.equal(info.maxMemKiB, 64 * 1024);
    assert.equal(info.vcpus, 1);

    await d.destroy();
    d.undefine();
    await waitFor('4 lifecycle events', () => (events.length >= 4 ? events : undefined));
    assert.deepEqual(
      events.map((e) => [e.event, e.detail]),
      [
        [LifecycleEvent.DEFINED, 0],
        [LifecycleEvent.STARTED, 0],
        [LifecycleEvent.STOPPED, StoppedDetail.DESTROYED],
        [LifecycleEvent.UNDEFINED, 0],
      ],
    );
    assert.equal(events[0]!.domain.name, 'bind-life');
    sub.cancel();
    d.free();
  });

  test('a cancelled subscription gets no more events', async (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = open();
    const uuid = randomUUID();
    let seen = 0;
    const sub = c.onDomainEvent('lifecycle', (ev) => {
      if (ev.domain.uuid === uuid) seen++;
    });
    assert.equal(c.subscriptionCount, 1);
    sub.cancel();
    sub.cancel();
    assert.equal(c.subscriptionCount, 0);
    // A second subscription that is still active proves events for this domain were delivered meanwhile.
    let control = 0;
    const controlSub = c.onDomainEvent('lifecycle', (ev) => {
      if (ev.domain.uuid === uuid) control++;
    });
    const d = c.defineXML(testDomainXml('bind-cancel', uuid));
    d.undefine();
    d.free();
    await waitFor('control events', () => (control >= 2 ? true : undefined));
    assert.equal(seen, 0);
    controlSub.cancel();
  });

  test('metadata under our namespace round-trips, and absent metadata reads as null', (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = open();
    const d = c.defineXML(testDomainXml('bind-meta', randomUUID()));
    try {
      assert.equal(d.getMetadata(NS), null);
      d.setMetadata(NS, 'masakari', '<ha enabled="true"/>');
      assert.equal(d.getMetadata(NS), '<ha enabled="true"/>');
      assert.match(d.xml(), /<masakari:ha xmlns:masakari="https:\/\/masakari.dev\/xmlns\/ha\/1" enabled="true"\/>/);
      d.setMetadata(NS, 'masakari', '<ha enabled="false"/>');
      assert.equal(d.getMetadata(NS), '<ha enabled="false"/>');
      d.setMetadata(NS, 'masakari', null);
      assert.equal(d.getMetadata(NS), null);
      assert.equal(d.getMetadata('https://example.org/other'), null);
    } finally {
      d.undefine();
      d.free();
    }
  });

  test('failures are LibvirtError with libvirt code and domain, for sync and async calls', async (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = open();
    const d = c.lookupByName('test')!;
    try {
      if (!d.isActive()) await d.start();
      // async call (worker thread): error read from the connection
      await assert.rejects(
        d.start(),
        (e: unknown) =>
          e instanceof LibvirtError && e.operation === 'virDomainCreate' && e.libvirtCode === ErrorCode.INTERNAL_ERROR && /already running/.test(e.message),
      );
      // sync call: thread-local error
      assert.throws(
        () => c.defineXML('<domain>'),
        (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.XML_DETAIL && e.codeName === 'XML_DETAIL' && /Premature end/.test(e.message),
      );
      assert.throws(
        () => d.setMetadata(NS, 'masakari', 'not xml'),
        (e: unknown) => e instanceof LibvirtError && e.libvirtCode > 0,
      );
      // the test driver has no QEMU agent: a clear "not supported"
      await assert.rejects(d.agentCommand('{"execute":"guest-ping"}', 1), (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.NO_SUPPORT);
    } finally {
      d.free();
    }
  });

  test('a read-only connection refuses changes with OPERATION_DENIED', (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const ro = open(true);
    assert.equal(ro.readOnly, true);
    assert.ok(ro.listDomainSummaries().length >= 1);
    assert.throws(
      () => ro.defineXML(testDomainXml('bind-ro', randomUUID())),
      (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.OPERATION_DENIED,
    );
  });

  test('opening an unknown URI is a LibvirtError, sync and async', async (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    assert.throws(
      () => LibvirtConnection.open('nosuchdriver:///x'),
      (e: unknown) => e instanceof LibvirtError && e.operation === 'virConnectOpen' && e.libvirtCode > 0,
    );
    await assert.rejects(
      LibvirtConnection.openAsync('test+unix:///default?socket=/nonexistent/sock'),
      (e: unknown) => e instanceof LibvirtError && /nonexistent/.test(e.message),
    );
  });

  test('a closed connection and a freed domain fail clearly instead of crashing', (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = LibvirtConnection.open('test:///default');
    const d = c.lookupByName('test')!;
    d.free();
    assert.throws(
      () => d.name(),
      (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.INVALID_DOMAIN,
    );
    c.close();
    c.close();
    assert.equal(c.closed, true);
    assert.throws(
      () => c.listDomains(),
      (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.INVALID_CONN,
    );
  });

  test('free() and close() during async calls wait for them instead of pulling the handle from under a worker', async (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    const c = LibvirtConnection.open('test:///default');
    const d = c.defineXML(testDomainXml('bind-inflight', randomUUID()));
    const starting = d.start();
    d.free();
    assert.equal(d.freed, true);
    assert.throws(
      () => d.name(),
      (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.INVALID_DOMAIN,
      'no new call once free() was asked',
    );
    await starting; // completed on a still-valid handle
    const listing = c.listDomainsAsync('active');
    c.close();
    const listed = await listing;
    assert.ok(listed.some((x) => x.name() === 'bind-inflight'));
    for (const x of listed) x.free();
    const again = LibvirtConnection.open('test:///default');
    const cleanup = again.lookupByName('bind-inflight')!;
    await cleanup.destroy();
    cleanup.undefine();
    cleanup.free();
    again.close();
  });

  test('the event loop runs while a connection is open and stops after the last one closes', async (t) => {
    if (!requireComponent(t, COMPONENT, HAVE)) return;
    await closesSettled(); // connections closed by earlier tests may still be releasing their loop users
    const before = eventLoopState().users;
    const c = LibvirtConnection.open('test:///default');
    assert.equal(eventLoopState().users, before + 1);
    assert.equal(eventLoopState().running, true);
    const closing = c.closeAsync();
    assert.equal(c.closed, true, 'closed at once for JS callers');
    await closing;
    assert.equal(eventLoopState().users, before);
  });
});
