// What the replay needs besides the captures themselves:
// 1. Reconstructed steps. The captures are a subset of the 187 recorded requests; the state they show (ids,
//    names, which host is on maintenance, notification statuses) was also built by requests that were not kept,
//    and by the engine. Each step here is inferred from what later captures show, and says from where.
// 2. Deliberate differences (docs/compatibility.md): for these cases we assert what we answer instead.

import assert from 'node:assert/strict';
import type { Store } from '../../src/core/store/types.ts';
import type { Capture } from './captures.ts';

export interface OurResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** The parsed JSON response body of the capture whose name starts with `prefix`. */
export type CaptureLookup = (prefix: string) => any;

export type Step =
  | {
      kind: 'http';
      why: string;
      method: string;
      /** May contain {placeholders} filled from `refs`. */
      path: string;
      headers?: Record<string, string>;
      body?: string;
      status: number;
      /** The captured uuid of the entity this request creates (read from a later capture that shows it). */
      createsUuid?: (find: CaptureLookup) => string;
    }
  | {
      kind: 'engine';
      why: string;
      run(store: Store, ours: (capturedUuid: string) => string, find: CaptureLookup): Promise<void>;
    };

/** Captured uuids of entities the reconstructed steps refer to, looked up in the captures (none are copied here). */
export const refs: Record<string, (find: CaptureLookup) => string> = {
  'seg-a': (find) => find('014').segment.uuid,
  'seg-b': (find) => find('061').segment.uuid,
  'seg-e': (find) => find('088').host.failover_segment_id,
  'compute-1': (find) => find('079').host.uuid,
};

const v12 = { 'OpenStack-API-Version': 'instance-ha 1.2' };
const json = { 'Content-Type': 'application/json' };
const hostDown = '{"event":"STOPPED","host_status":"NORMAL","cluster_status":"OFFLINE"}';
const named = (list: { name: string; uuid: string }[], name: string) => list.find((x) => x.name === name)!.uuid;

/** Steps to run before the capture whose name starts with the key. */
export const RECONSTRUCTED: Record<string, Step[]> = {
  '016': [
    {
      kind: 'http',
      why: 'seg-b (id 2, reserved_host, disabled, created at 1.2) is listed from 040 on',
      method: 'POST',
      path: '/v1/segments',
      headers: { ...json, ...v12 },
      body: '{"segment":{"name":"seg-b","recovery_method":"reserved_host","service_type":"COMPUTE","enabled":false}}',
      status: 201,
      createsUuid: refs['seg-b'],
    },
  ],
  '034': [
    {
      kind: 'http',
      why: 'seg-nct (id 5, created without Content-Type) is listed from 040 on',
      method: 'POST',
      path: '/v1/segments',
      body: '{"segment":{"name":"seg-nct","recovery_method":"auto","service_type":"COMPUTE"}}',
      status: 201,
      createsUuid: (find) => named(find('040').segments, 'seg-nct'),
    },
  ],
  '073': [
    {
      kind: 'http',
      why: '074 shows seg-a with description "updated" and recovery_method reserved_host',
      method: 'PUT',
      path: '/v1/segments/{seg-a}',
      headers: json,
      body: '{"segment":{"description":"updated","recovery_method":"reserved_host"}}',
      status: 200,
    },
  ],
  '076': [
    {
      kind: 'http',
      why: '079 embeds seg-a with description null again',
      method: 'PUT',
      path: '/v1/segments/{seg-a}',
      headers: json,
      body: '{"segment":{"description":null}}',
      status: 200,
    },
  ],
  '082': [
    {
      kind: 'http',
      why: 'compute-3 (host id 3: IPMI, on maintenance) is listed in 100; 125 needs it on maintenance',
      method: 'POST',
      path: '/v1/segments/{seg-a}/hosts',
      headers: json,
      body: '{"host":{"name":"compute-3","type":"COMPUTE","control_attributes":"IPMI","on_maintenance":true}}',
      status: 201,
      createsUuid: (find) => named(find('100').hosts, 'compute-3'),
    },
  ],
  '085': [
    {
      kind: 'http',
      why: 'compute-7 (host id 5) sits in the re-enabled segment (seg-b, enabled again by 070); 146 notifies from it',
      method: 'POST',
      path: '/v1/segments/{seg-b}/hosts',
      headers: json,
      body: '{"host":{"name":"compute-7","type":"COMPUTE","control_attributes":"SSH"}}',
      status: 201,
      createsUuid: (find) => find('146').notification.source_host_uuid,
    },
  ],
  '088': [
    {
      kind: 'http',
      why: 'seg-e (id 10) holds compute-5 and compute-6 from 088 on',
      method: 'POST',
      path: '/v1/segments',
      headers: json,
      body: '{"segment":{"name":"seg-e","recovery_method":"auto","service_type":"COMPUTE"}}',
      status: 201,
      createsUuid: refs['seg-e'],
    },
  ],
  '124': [
    {
      kind: 'http',
      why: 'notification id 1 (compute-1 host down) is shown by 163',
      method: 'POST',
      path: '/v1/notifications',
      headers: json,
      body: `{"notification":{"type":"COMPUTE_HOST","hostname":"compute-1","generated_time":"2026-11-22T02:16:19.000000","payload":${hostDown}}}`,
      status: 202,
      createsUuid: (find) => find('163').notification.notification_uuid,
    },
    {
      kind: 'engine',
      why: "the engine's host-down flow put compute-1 on maintenance (124's 409 says so) and ended in error (163)",
      async run(store, ours, find) {
        const now = new Date();
        await store.updateHost(ours(refs['compute-1']!(find)), { onMaintenance: true }, now);
        await store.setNotificationStatus(ours(find('163').notification.notification_uuid), 'error', now);
      },
    },
  ],
  '130': [
    {
      kind: 'http',
      why: 'notification id 3 (PROCESS /usr/sbin/libvirtd from compute-4) is shown by 166',
      method: 'POST',
      path: '/v1/notifications',
      headers: json,
      body: '{"notification":{"type":"PROCESS","hostname":"compute-4","generated_time":"2026-11-22T02:16:19.000000","payload":{"event":"STOPPED","process_name":"/usr/sbin/libvirtd"}}}',
      status: 202,
      createsUuid: (find) => find('166').notification.notification_uuid,
    },
  ],
  '151': [
    {
      kind: 'engine',
      why: 'the engine had given every notification the status 151 lists',
      async run(store, ours, find) {
        const now = new Date();
        for (const n of find('151').notifications as { notification_uuid: string; status: 'error' }[]) {
          await store.setNotificationStatus(ours(n.notification_uuid), n.status, now);
        }
      },
    },
  ],
  '181': [
    {
      kind: 'http',
      why: '181 shows the cascade of deleting seg-e',
      method: 'DELETE',
      path: '/v1/segments/{seg-e}',
      status: 204,
    },
  ],
};

/** Request bodies the capture only names (sent from a file): rebuilt from the captured response. */
export function rebuildBody(c: Capture): string | undefined {
  if (!c.bodyFromFile) return c.requestBody;
  const seg = (JSON.parse(c.responseBody) as { segment: { name: string; description: string } }).segment;
  // Written by Python's json.dump (", " and ": " separators) with a final newline.
  const body = `{"segment": {"name": ${JSON.stringify(seg.name)}, "description": ${JSON.stringify(seg.description)}, "recovery_method": "auto", "service_type": "COMPUTE"}}\n`;
  assert.equal(Buffer.byteLength(body), c.bodyFromFile.bytes, 'rebuilt body has the recorded size');
  return body;
}

export interface Difference {
  /** Why we answer differently; each entry mirrors a row of docs/compatibility.md. */
  why: string;
  /** Asserts what we answer instead. */
  check(ours: OurResponse, captured: Capture): void;
}

const jsonNotFound: Difference = {
  why: 'unknown routes and methods: JSON itemNotFound instead of an HTML page',
  check(ours, captured) {
    assert.equal(captured.responseHeaders['content-type'], 'text/html; charset=UTF-8');
    assert.equal(ours.status, 404);
    assert.equal(ours.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.deepEqual(ours.json, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  },
};

const maxVersion13 = (read: (j: any) => unknown): Difference => ({
  why: 'maximum microversion is 1.3 (vmoves), Masakari 14.0.2 stops at 1.2',
  check(ours, captured) {
    assert.equal(ours.status, captured.status);
    assert.equal(read(JSON.parse(captured.responseBody)), '1.2');
    assert.equal(read(ours.json), '1.3');
  },
});

export const DIFFERENCES: Record<string, Difference> = {
  '001_versions_root': maxVersion13((j) => j.versions[0].version),
  '002_versions_v1': maxVersion13((j) => j.version.version),
  '004_versions_unknown_v2': {
    why: '300 choices link to the /v1/ document, not to /v1 + the unknown path',
    check(ours) {
      assert.equal(ours.status, 300);
      assert.match((ours.json as any).choices[0].links[0].href, /^http:\/\/127\.0\.0\.1:\d+\/v1\/$/);
    },
  },
  '005_versions_v1_unknown_resource': jsonNotFound,
  '043_seg_list_project_path_nonhex': jsonNotFound,
  '065_seg_method_not_allowed_patch': jsonNotFound,
  '067_seg_collection_put_not_allowed': jsonNotFound,
  '008_microversion_too_high_1_3': {
    why: 'microversion 1.3 exists here (vmoves)',
    check(ours) {
      assert.equal(ours.status, 200);
      assert.equal(ours.headers.get('openstack-api-version'), 'masakari 1.3');
      assert.ok(Array.isArray((ours.json as any).segments));
    },
  },
  '046_seg_list_filter_enabled_false': {
    why: 'enabled is a real boolean filter (Masakari compares the raw text, so enabled=false matched nothing)',
    check(ours) {
      assert.equal(ours.status, 200);
      const names = (ours.json as any).segments.map((s: any) => s.name);
      assert.deepEqual(names, ['seg-b']);
      assert.ok((ours.json as any).segments.every((s: any) => s.enabled === false));
    },
  },
};
