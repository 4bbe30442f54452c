// kill -9 of the controller after EVERY store write of a host recovery, one run per crash point: the restarted
// controller must always finish the recovery, evacuate every instance exactly once, and leave nothing locked.
// (The golden scenarios pin the exact logs of a few crash points; this sweeps all of them.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario, runScenario } from '../../src/sim/index.ts';

function scenario(crashAfterWrites: number, method: 'auto' | 'reserved_host', takeover = false) {
  return parseScenario(
    {
      description: `crash after store write #${crashAfterWrites}`,
      config: { engine: { host_failure_recovery_threads: 2 } },
      // takeover: c1 stays dead and c2 resumes once c1's lease has run out.
      controllers: takeover ? ['c1', 'c2'] : ['c1'],
      cloud: {
        segments: [
          {
            name: 'seg',
            recovery_method: method,
            hosts: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }, { name: 'r1', reserved: true }],
          },
        ],
        servers: [
          { id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'True' } },
          { id: 'vm2', host: 'h1', vm_state: 'stopped' },
          { id: 'vm3', host: 'h1', vm_state: 'error', metadata: { HA_Enabled: 'True' } },
          { id: 'vm4', host: 'h1', task_state: 'rebooting' },
        ],
      },
      events: [
        { at: 0, power_off: 'h1' },
        { at: 0, crash_after_store_writes: takeover ? { count: crashAfterWrites } : { count: crashAfterWrites, restart_after: 5 } },
        {
          at: 5,
          notify: { id: 'n1', type: 'COMPUTE_HOST', host: 'h1', to: 'c1', payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' } },
        },
      ],
    },
    'crash-anywhere',
  );
}

const sweeps = [
  { name: 'auto, restart', method: 'auto', takeover: false, step: 1 },
  { name: 'reserved_host, restart', method: 'reserved_host', takeover: false, step: 1 },
  { name: 'auto, another controller takes over', method: 'auto', takeover: true, step: 3 },
] as const;

for (const sw of sweeps) {
  test(`${sw.name}: a crash after any store write is resumed without repeating an evacuation`, { timeout: 120_000 }, async () => {
    // Without a crash the recovery makes about 70 writes; crash after each of them (the last ones crash after the end).
    const clean = await runScenario(scenario(1_000_000, sw.method, sw.takeover));
    assert.equal(clean.notifications[0]!.finalStatus, 'finished');
    let crashed = 0;
    for (let k = 1; k <= 80; k += sw.step) {
      const r = await runScenario(scenario(k, sw.method, sw.takeover));
      const n = r.notifications[0]!;
      const where = `crash after write #${k}`;
      if (r.text.includes('killed')) crashed++;
      assert.equal(n.finalStatus, 'finished', `${where}: ${n.finalStatus}\n${r.text}`);
      assert.equal(r.repeatedEvacuations, 0, where);
      assert.deepEqual(r.violations, [], where);
      for (const id of ['vm1', 'vm2', 'vm3', 'vm4']) {
        assert.match(r.text, new RegExp(`^${id} on (h2|h3|r1) \\S+ evacuations=1$`, 'm'), `${where}: ${id} moved once and unlocked`);
      }
      // The end state does not depend on where the crash happened.
      const states = (t: string) =>
        t
          .split('\n')
          .filter((l) => /^vm\d on /.test(l))
          .map((l) => l.replace(/ on \S+/, ''));
      assert.deepEqual(states(r.text), states(clean.text), where);
    }
    assert.ok(crashed >= 60 / sw.step, `only ${crashed} runs crashed: the sweep does not cover the workflow`);
  });
}

test('instance flow: a crash after any store write still restarts the VM exactly once', { timeout: 120_000 }, async () => {
  const vmScenario = (k: number) =>
    parseScenario(
      {
        description: `vm crash after store write #${k}`,
        cloud: { segments: [{ name: 'seg', hosts: [{ name: 'h1' }] }], servers: [{ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'True' } }] },
        events: [
          { at: 0, crash_after_store_writes: { count: k, restart_after: 5 } },
          { at: 5, notify: { id: 'n1', type: 'VM', host: 'h1', payload: { event: 'LIFECYCLE', instance_uuid: 'vm1', vir_domain_event: 'STOPPED_FAILED' } } },
        ],
      },
      'crash-anywhere-vm',
    );
  for (let k = 1; k <= 30; k++) {
    const r = await runScenario(vmScenario(k));
    const where = `crash after write #${k}`;
    assert.equal(r.notifications[0]!.finalStatus, 'finished', `${where}\n${r.text}`);
    assert.ok(r.lines.filter((l) => / nova {2}stop vm1$/.test(l)).length <= 1, `${where}: stopped twice`);
    assert.equal(r.lines.filter((l) => / nova {2}start vm1$/.test(l)).length, 1, `${where}: started once`);
    assert.match(r.text, /^vm1 on h1 active evacuations=0$/m, where);
  }
});
