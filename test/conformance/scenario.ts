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

export type Step =
  | {
      kind: 'http';
      why: string;
      method: string;
      path: string;
      headers?: Record<string, string>;
      body?: string;
      status: number;
      /** The captured uuid of the entity this request creates (it appears in later captures). */
      createsUuid?: string;
    }
  | { kind: 'engine'; why: string; run(store: Store, ours: (capturedUuid: string) => string): Promise<void> };

const SEG_A = '5d4ac783-0571-47a7-9f0a-c3a3e1a05ee9';
const SEG_B = '06cb734b-3241-4008-86ea-f97e5430d774';
const COMPUTE_1 = 'dd474c6b-bf7d-42df-aa83-b1dd39c64410';
const v12 = { 'OpenStack-API-Version': 'instance-ha 1.2' };
const json = { 'Content-Type': 'application/json' };
const hostDown = '{"event":"STOPPED","host_status":"NORMAL","cluster_status":"OFFLINE"}';

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
      createsUuid: SEG_B,
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
      createsUuid: 'f58d4329-9b0c-43ca-9edf-c34eb743310b',
    },
  ],
  '073': [
    {
      kind: 'http',
      why: '074 shows seg-a with description "updated" and recovery_method reserved_host',
      method: 'PUT',
      path: `/v1/segments/${SEG_A}`,
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
      path: `/v1/segments/${SEG_A}`,
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
      path: `/v1/segments/${SEG_A}/hosts`,
      headers: json,
      body: '{"host":{"name":"compute-3","type":"COMPUTE","control_attributes":"IPMI","on_maintenance":true}}',
      status: 201,
      createsUuid: '1d88b056-bbae-485e-b40a-420840058ae9',
    },
  ],
  '085': [
    {
      kind: 'http',
      why: 'compute-7 (host id 5) sits in the re-enabled segment (seg-b, enabled again by 070); 146 notifies from it',
      method: 'POST',
      path: `/v1/segments/${SEG_B}/hosts`,
      headers: json,
      body: '{"host":{"name":"compute-7","type":"COMPUTE","control_attributes":"SSH"}}',
      status: 201,
      createsUuid: '1ad39480-18a9-46e5-bf4c-7ee406240a56',
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
      createsUuid: 'e3e5120b-e741-400a-bd25-c12bbfaf69ba',
    },
  ],
  '124': [
    {
      kind: 'http',
      why: 'notification id 1 (compute-1 host down) is listed from 151 on',
      method: 'POST',
      path: '/v1/notifications',
      headers: json,
      body: `{"notification":{"type":"COMPUTE_HOST","hostname":"compute-1","generated_time":"2026-11-22T02:16:19.000000","payload":${hostDown}}}`,
      status: 202,
      createsUuid: '77360be5-1feb-4582-a438-58c75eb7ec58',
    },
    {
      kind: 'engine',
      why: "the engine's host-down flow put compute-1 on maintenance (124's 409) and ended in error (151)",
      async run(store, ours) {
        const now = new Date();
        await store.updateHost(ours(COMPUTE_1), { onMaintenance: true }, now);
        await store.setNotificationStatus(ours('77360be5-1feb-4582-a438-58c75eb7ec58'), 'error', now);
      },
    },
  ],
  '130': [
    {
      kind: 'http',
      why: 'notification id 3 (PROCESS /usr/sbin/libvirtd from compute-4) is listed from 151 on',
      method: 'POST',
      path: '/v1/notifications',
      headers: json,
      body: '{"notification":{"type":"PROCESS","hostname":"compute-4","generated_time":"2026-11-22T02:16:19.000000","payload":{"event":"STOPPED","process_name":"/usr/sbin/libvirtd"}}}',
      status: 202,
      createsUuid: 'a82f22d3-86f2-4869-b0cb-87db0161db0e',
    },
  ],
  '151': [
    {
      kind: 'engine',
      why: 'the statuses the engine had given notifications 2..6 by 151',
      async run(store, ours) {
        const now = new Date();
        const final: [string, 'error' | 'finished' | 'ignored'][] = [
          ['59d73253-d47a-40c8-a6c8-e672322919d5', 'error'],
          ['a82f22d3-86f2-4869-b0cb-87db0161db0e', 'finished'],
          ['4dfa6946-047f-4322-a40e-449608e98350', 'ignored'],
          ['65a39aef-fdd2-47b5-91c7-0885742ce09f', 'ignored'],
          ['bb7c62ee-501b-4ce5-9294-de3ea23daccb', 'error'],
        ];
        for (const [uuid, status] of final) await store.setNotificationStatus(ours(uuid), status, now);
      },
    },
  ],
  '181': [
    {
      kind: 'http',
      why: '181 shows the cascade of deleting seg-e',
      method: 'DELETE',
      path: '/v1/segments/e3e5120b-e741-400a-bd25-c12bbfaf69ba',
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
    why: "300 choices link to the /v1/ document, not to /v1 + the unknown path",
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
