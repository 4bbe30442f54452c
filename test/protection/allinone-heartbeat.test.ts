// --role=all: the agent inside the process sends its heartbeats to the controller in the same process (through the
// API app, no socket). libvirt's test driver (test:///default) stands in for libvirtd, and it is a true negative: it
// cannot do the keepalive the instance monitor sets up, so the monitor never connects, and the report must say so
// (the protected case over a real libvirtd is test/e2e/protection-roles.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { ProtectionReport } from '../../src/core/protection/service.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import * as all from '../../src/roles/all.ts';
import { requireComponent } from '../support/components.ts';
import { waitFor } from '../support/cli.ts';

test(
  '--role=all: in-process heartbeats reach the report; the instance monitor that cannot connect makes the host unprotected',
  { timeout: 120_000 },
  async (t) => {
    if (!requireComponent(t, 'libvirt.so.0 (libvirt0)', libvirtAvailable())) return;
    const dir = mkdtempSync(join(tmpdir(), 'prot-all-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadConfig({
      env: {},
      overrides: {
        data_dir: dir,
        api: { listen: '127.0.0.1:0' },
        libvirt: { connection_uri: 'test:///default' },
        compute: { hostname: 'prot-lab-host', heartbeat_interval: 0.2 },
        host_failure: { fencing_required: false },
      },
    });
    const running = await all.start(config, silentLogger);
    t.after(() => running.stop());
    const base = `http://127.0.0.1:${running.controller.port}/v1`;
    const h = await waitFor(
      async () => {
        const r = (await (await fetch(`${base}/x-masakari/protection`)).json()) as ProtectionReport;
        const host = r.hosts.find((x) => x.name === 'prot-lab-host');
        return host?.agent ? host : undefined;
      },
      30_000,
      'a heartbeat of the lab host in the report',
    );
    assert.equal(h.segment, 'masakari-lab');
    assert.equal(h.agent!.silent, false);
    assert.equal((h.agent!.monitors.instance!.libvirt as { connected: boolean }).connected, false);
    assert.equal(h.protected, false);
    assert.match(
      h.reasons.join('\n'),
      /^instance monitor disconnected from libvirt since .*: (not connected yet|connection unusable: .*virConnectSetKeepAlive)/m,
    );
    assert.ok(running.compute.heartbeat.sent >= 1);
    const hbs = (await (await fetch(`${base}/x-masakari/heartbeats`)).json()) as { heartbeats: { host: string }[] };
    assert.deepEqual(
      hbs.heartbeats.map((x) => x.host),
      ['prot-lab-host'],
    );
  },
);
