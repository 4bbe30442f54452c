// Bounded fuzzing of the API edge: a few thousand mutated requests (fuzz-requests.ts) against a real controller (the
// role's own wiring: SQLite store, engine, Node server) over real sockets, once with noauth2 and once with keystone
// against the stand-in Keystone. Whatever arrives, the server must answer every request with no 5xx, every error
// in Masakari's JSON envelope with a request id, log no API error, and still be up at the end.
//
// Seeded: the seed is printed, and FUZZ_SEED=<seed> npm test -- test/api/fuzz replays the same requests.
// FUZZ_COUNT scales the number of requests (default 2000 + 800), FUZZ_TIME_MS the time budget of each part (25 s),
// for a longer soak: FUZZ_COUNT=50000 FUZZ_TIME_MS=600000.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/core/config/load.ts';
import type { ConfigInput } from '../../src/core/config/schema.ts';
import { start, type RunningController } from '../../src/roles/controller.ts';
import { FakeKeystone } from './fake-keystone.ts';
import { fuzzCase, rng, type FuzzCase, type Known } from './fuzz-requests.ts';
import { captureLog, LEVEL, type CapturedLog } from './log-capture.ts';
import { rawRequest, type RawResponse } from './raw-http.ts';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const SCALE = process.env.FUZZ_COUNT !== undefined ? Number(process.env.FUZZ_COUNT) / 2800 : 1;
/** Stop early (and say so) rather than run past this; a slow machine then tests fewer requests, not none. */
const TIME_BUDGET_MS = process.env.FUZZ_TIME_MS !== undefined ? Number(process.env.FUZZ_TIME_MS) : 25_000;
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What is wrong with an answer, or undefined. */
function problemWith(r: RawResponse, method: string): string | undefined {
  if (r.status >= 500) return `status ${r.status}`;
  if (!REQUEST_ID.test(r.headers['x-openstack-request-id'] ?? '')) return 'no request id';
  const bodyless = method === 'HEAD' || r.status === 204 || r.status === 304;
  if (bodyless) return undefined;
  if (r.status >= 400) {
    if (!r.headers['content-type']?.startsWith('application/json')) return `error with content type ${r.headers['content-type']}`;
    let body: any;
    try {
      body = JSON.parse(r.body);
    } catch {
      return 'error body is not JSON';
    }
    const keys = Object.keys(body ?? {});
    const fault = keys.length === 1 ? body[keys[0]!] : undefined;
    // 401 is keystonemiddleware's {"error": {code, title, message}}; everything else Masakari's {key: {code, message}}.
    if (!fault || fault.code !== r.status || typeof fault.message !== 'string') return 'error body is not a Masakari fault';
    return undefined;
  }
  if (r.body !== '') {
    try {
      JSON.parse(r.body);
    } catch {
      return 'success body is not JSON';
    }
  }
  return undefined;
}

interface Lab {
  ctl: RunningController;
  captured: CapturedLog;
  known: Known;
}

async function startLab(api: ConfigInput['api'], seedHeaders: Record<string, string>): Promise<Lab> {
  const captured = captureLog('info');
  const config = parseConfig({ api: { listen: '127.0.0.1:0', ...api }, database: { url: 'sqlite::memory:', auto_migrate: true } }, 'fuzz');
  const ctl = await start(config, captured.log);
  // A few real segments, hosts and notifications for the mutated requests to aim at.
  const base = `http://127.0.0.1:${ctl.port}/v1`;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...seedHeaders }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.ok(r.status < 300, `seeding ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
  const known: Known = { segments: [], hosts: [], notifications: [] };
  for (let i = 0; i < 3; i++) {
    const seg = (await post('/segments', { segment: { name: `seed-${i}`, recovery_method: 'auto', service_type: 'COMPUTE' } })).segment.uuid;
    known.segments.push(seg);
    for (let j = 0; j < 2; j++) {
      const name = `seed-host-${i}-${j}`;
      known.hosts.push({
        segment: seg,
        host: (await post(`/segments/${seg}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'SSH' } })).host.uuid,
        name,
      });
    }
  }
  const n = await post('/notifications', {
    notification: {
      type: 'VM',
      hostname: 'seed-host-0-0',
      generated_time: '2026-01-01T00:00:00',
      payload: { event: 'LIFECYCLE', instance_uuid: '6f1b1e3a-6c1f-4b7e-9d7e-0f6c2b9a1d11', vir_domain_event: 'STOPPED_FAILED' },
    },
  });
  known.notifications.push(n.notification.notification_uuid);
  return { ctl, captured, known };
}

async function fuzz(t: TestContext, lab: Lab, count: number, seed: number, token?: (r: ReturnType<typeof rng>) => string | undefined) {
  const r = rng(seed);
  const started = Date.now();
  const failures: string[] = [];
  let sent = 0;
  for (; sent < count && Date.now() - started < TIME_BUDGET_MS; sent++) {
    const c: FuzzCase = fuzzCase(r, lab.known, token ? { token: () => token(r) } : {});
    if (r.chance(0.03)) {
      // A client that resets the connection right after sending: nobody to answer; the log check below covers it.
      await rawRequest(lab.ctl.port, c.bytes, { end: 'reset' });
      continue;
    }
    // Half-close after the request: a truncated body or head then ends in Node's parser (an answer), not a wait.
    // The timeouts (here and Keystone's) are generous so that a loaded CI machine does not turn into a finding.
    const { response, raw } = await rawRequest(lab.ctl.port, c.bytes, { end: 'half-close', timeoutMs: 10_000 });
    // Nothing but line breaks is no request (HTTP allows empty lines before one): no answer is right then.
    const nothingSent = /^[\r\n]*$/.test(c.bytes.toString('latin1'));
    const problem = response ? problemWith(response, c.method) : nothingSent ? undefined : 'no answer';
    if (problem && failures.length < 10) {
      failures.push(
        `#${sent} ${problem}: ${c.label}\n  sent: ${JSON.stringify(c.bytes.toString('latin1').slice(0, 300))}\n  got:  ${JSON.stringify(raw.slice(0, 300))}`,
      );
    }
  }
  const ms = Date.now() - started;
  await new Promise((res) => setTimeout(res, 100)); // the server's side of reset connections, logged a little later
  t.diagnostic(`seed ${seed}: ${sent} requests in ${ms} ms${sent < count ? ` (time budget reached before ${count})` : ''}`);
  // Still up and answering.
  const alive = await rawRequest(lab.ctl.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(alive.response?.status, 200, `seed ${seed}: the server stopped answering`);
  const apiErrors = lab.captured.lines.filter((l) => l.component === 'api' && (l.level >= LEVEL.error || (l.msg === 'request' && (l.status as number) >= 500)));
  assert.deepEqual(failures, [], `seed ${seed} (FUZZ_SEED=${seed} to replay): ${failures.length} bad answers`);
  assert.deepEqual(apiErrors, [], `seed ${seed} (FUZZ_SEED=${seed} to replay): API errors in the log`);
}

describe(`API fuzz (seed ${SEED}; FUZZ_SEED=${SEED} replays it)`, () => {
  describe('noauth2', () => {
    let lab: Lab;
    before(async () => (lab = await startLab({}, {})));
    after(() => lab.ctl.stop());
    test('mutated requests: no 5xx, no non-JSON error, no API error logged, still up', (t) => fuzz(t, lab, Math.round(2000 * SCALE), SEED));
  });

  describe('keystone (stand-in Keystone)', () => {
    const ks = new FakeKeystone();
    let lab: Lab;
    before(async () => {
      await ks.start();
      lab = await startLab(
        { auth_strategy: 'keystone', keystone: { auth_url: `${ks.url}/v3`, password: 'secret', timeout_seconds: 10 } },
        { 'X-Auth-Token': 'admin-token' },
      );
    });
    after(async () => {
      await lab?.ctl.stop();
      await ks.stop();
    });
    const tokens = ['admin-token', 'admin-token', 'member-token', 'reader-token', 'bogus', undefined];
    test('mutated requests with and without tokens: no 5xx, no non-JSON error, no API error logged, still up', (t) =>
      fuzz(t, lab, Math.round(800 * SCALE), SEED ^ 0x5bd1e995, (r) => r.pick(tokens)));
  });
});
