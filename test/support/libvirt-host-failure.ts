// The host failure the controller tests drive on libvirt's test driver (no daemon): the controller role with the
// libvirt recovery driver over node-a (carrying the given domains) and node-b in one segment, node-a killed and
// reported as a COMPUTE_HOST failure through the API. test/metrics/controller-metrics.test.ts and
// test/roles/all.test.ts share it; what they then check differs.

import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import type { Logger } from '../../src/core/log.ts';
import * as controller from '../../src/roles/controller.ts';
import { twoTestHosts, type TwoHosts } from '../drivers/libvirt-compute/fixtures.ts';

export interface HostFailureSetup {
  /** Prefix of the data directory under the OS temp dir. */
  dirPrefix: string;
  fencingRequired: boolean;
  log: Logger;
  /** Further config sections (e.g. metrics). */
  overrides?: Record<string, unknown>;
}

export interface FailedHost {
  ctl: controller.RunningController;
  hosts: TwoHosts;
  /** http://127.0.0.1:PORT/v1 */
  base: string;
  /** The segment of node-a and node-b. */
  segment: string;
  /** The notification of node-a's failure (accepted: 202). */
  uuid: string;
}

/** Starts it all (stopped and removed in t.after), kills node-a and posts its failure. */
export async function failHostOnLibvirt(t: TestContext, domains: string[], s: HostFailureSetup): Promise<FailedHost> {
  const hosts = twoTestHosts(domains);
  t.after(() => hosts.cleanup());
  const dir = mkdtempSync(join(tmpdir(), s.dirPrefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    env: {},
    overrides: {
      data_dir: dir,
      api: { listen: '127.0.0.1:0' },
      database: { auto_migrate: true },
      controller: { compute_driver: 'libvirt' },
      engine: { verify_interval: 0.05, wait_period_after_service_update: 1, wait_period_after_evacuation: 10 },
      host_failure: { fencing_required: s.fencingRequired },
      ...s.overrides,
    },
  });
  const ctl = await controller.start(config, s.log, { compute: hosts.driver });
  t.after(() => ctl.stop());
  await hosts.driver.refreshInventory(); // the controller has seen node-a's domains before it dies
  const seg = await ctl.store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  for (const name of ['node-a', 'node-b']) {
    await ctl.store.createHost(seg.uuid, { name, type: 'COMPUTE', controlAttributes: 'libvirt', reserved: false, onMaintenance: false }, new Date());
  }
  hosts.kill('node-a');
  const base = `http://127.0.0.1:${ctl.port}/v1`;
  const r = await fetch(`${base}/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      notification: {
        type: 'COMPUTE_HOST',
        hostname: 'node-a',
        generated_time: new Date().toISOString(),
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      },
    }),
  });
  assert.equal(r.status, 202);
  const uuid = ((await r.json()) as { notification: { notification_uuid: string } }).notification.notification_uuid;
  return { ctl, hosts, base, segment: seg.uuid, uuid };
}

export interface EndedNotification {
  status: string;
  recovery_workflow_details: { name: string; progress_details: { message: string }[] }[];
}

/** The notification (API 1.1: with its progress details) once it has ended; fails the test after `timeoutMs`. */
export async function waitForEnd(f: FailedHost, timeoutMs: number): Promise<EndedNotification> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${f.base}/notifications/${f.uuid}`, { headers: { 'OpenStack-API-Version': 'instance-ha 1.1' } });
    const n = ((await res.json()) as { notification: EndedNotification }).notification;
    if (['finished', 'error', 'failed', 'ignored'].includes(n.status)) return n;
    if (Date.now() > until) assert.fail(`notification stuck in ${n.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
