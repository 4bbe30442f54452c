// Conformance replay: every recorded request of the real Masakari 14.0.2 is sent, in order, to a fresh server of
// ours (real HTTP, real SQLite store), and our answer is compared with the recorded one: status, error key and
// message, version headers, body shape and deterministic values. Cases where we deliberately differ are listed in
// scenario.ts (and docs/compatibility.md) with what we answer instead.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { HostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { loadCaptures, type Capture } from './captures.ts';
import { compareBodies, UuidMap } from './compare.ts';
import { DIFFERENCES, RECONSTRUCTED, rebuildBody, refs, type CaptureLookup, type OurResponse } from './scenario.ts';

/** The stand-in Nova of the recording knew every compute-N host, and no "nocompute-N" (capture 097). */
const recordedNova: HostCatalog = { hostExists: async (name) => !name.startsWith('nocompute') };
const CAPTURED_BASE = 'http://127.0.0.1:15868';

let store: Store;
let server: RunningApi;
let base: string;

async function send(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<OurResponse> {
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function compareResponse(c: Capture, ours: OurResponse, uuids: UuidMap): string[] {
  const problems: string[] = [];
  if (ours.status !== c.status) problems.push(`status ${ours.status} (${ours.text.slice(0, 200)}), expected ${c.status}`);
  for (const h of ['content-type', 'openstack-api-version', 'vary']) {
    const want = c.responseHeaders[h];
    const got = ours.headers.get(h) ?? undefined;
    if (want?.toLowerCase() !== got?.toLowerCase()) problems.push(`header ${h}: ${got}, expected ${want}`);
  }
  if (c.responseHeaders['x-openstack-request-id'] && !/^req-[0-9a-f-]{36}$/.test(ours.headers.get('x-openstack-request-id') ?? '')) {
    problems.push('missing X-Openstack-Request-Id: req-<uuid>');
  }
  if (c.responseBody === '') {
    if (ours.text !== '') problems.push(`body ${ours.text.slice(0, 100)}, expected none`);
    return problems;
  }
  const expected = JSON.parse(c.responseBody.split(CAPTURED_BASE).join(base));
  return compareBodies(expected, ours.json, uuids, '$', problems);
}

describe('conformance replay of the Masakari 14.0.2 captures', () => {
  const captures = loadCaptures();
  const uuids = new UuidMap();
  const find: CaptureLookup = (prefix) => {
    const c = captures.find((x) => x.name.startsWith(prefix));
    if (!c) throw new Error(`no capture ${prefix}`);
    return JSON.parse(c.responseBody);
  };

  before(async () => {
    store = openSqliteStore({ path: ':memory:' });
    const app = createApiApp({ store, config: parseConfig({}, 'test'), log: silentLogger, hostCatalog: recordedNova });
    server = await startApiServer(app, '127.0.0.1:0');
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server?.close();
    await store?.close();
  });

  test('the captures are present', () => {
    assert.ok(captures.length >= 100, `only ${captures.length} captures`);
  });

  for (const c of captures) {
    test(c.name, async () => {
      for (const step of RECONSTRUCTED[c.name.slice(0, 3)] ?? []) {
        if (step.kind === 'engine') {
          await step.run(store, (u) => uuids.translate(u), find);
          continue;
        }
        const path = step.path.replace(/\{([\w-]+)\}/g, (_, ref: string) => uuids.translate(refs[ref]!(find)));
        const r = await send(step.method, path, step.headers ?? {}, step.body);
        assert.equal(r.status, step.status, `reconstructed step (${step.why}): ${r.text}`);
        if (step.createsUuid) {
          const created = Object.values(r.json as Record<string, { uuid?: string; notification_uuid?: string }>)[0]!;
          assert.ok(uuids.bind(step.createsUuid(find), created.uuid ?? created.notification_uuid!), step.why);
        }
      }
      const ours = await send(c.method, uuids.translate(c.path), c.requestHeaders, rebuildBody(c) === undefined ? undefined : uuids.translate(rebuildBody(c)!));
      const difference = DIFFERENCES[c.name];
      if (difference) {
        difference.check(ours, c);
        return;
      }
      const problems = compareResponse(c, ours, uuids);
      assert.deepEqual(problems, [], `${c.method} ${c.path}`);
    });
  }
});
