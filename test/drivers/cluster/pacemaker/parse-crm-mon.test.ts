import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CrmMonParseError, parseCrmMonXml } from '../../../../src/drivers/cluster/pacemaker/parse-crm-mon.ts';
import { conditionOf } from '../../../../src/core/monitors/host/decide.ts';
import { crmMonFile, crmMonFiles } from './reference.ts';

const at = new Date('2026-11-22T02:10:00Z');

/** What each recorded crm_mon output shows (node -> condition, from the lab notes). */
const expected: Record<string, { conditions: Record<string, string>; fence: 'none' | 'null' | Record<string, string[]> }> = {
  '01-all-online.xml': { conditions: { node1: 'online', node2: 'online', node3: 'online', remote1: 'online' }, fence: 'none' },
  '01-all-online.legacy-X.xml': { conditions: { node1: 'online', node2: 'online', node3: 'online', remote1: 'online' }, fence: 'null' },
  '02-node3-unclean-fence-pending.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'unclean', remote1: 'online' },
    fence: { node3: ['pending'] },
  },
  '03-node3-offline-after-fencing.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'offline', remote1: 'online' },
    fence: { node3: ['success'] },
  },
  '05a-node3-shutting-down.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'leaving', remote1: 'online' },
    fence: { node3: ['success', 'success'] },
  },
  '05b-node3-pacemaker-stopped-corosync-still-up.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'joining', remote1: 'online' },
    fence: { node3: ['success', 'success'] },
  },
  '06-node3-offline-clean-shutdown.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'offline', remote1: 'online' },
    fence: { node3: ['success', 'success'] },
  },
  '08-remote1-offline-fenced.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'offline', remote1: 'offline' },
    fence: { node3: ['success', 'success'], remote1: ['success'] },
  },
  '09-node3-offline-remote1-offline.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'offline', remote1: 'offline' },
    fence: { node3: ['success', 'success'], remote1: ['success', 'success'] },
  },
  '11-node2-offline-after-fencing.xml': {
    conditions: { node1: 'online', node2: 'offline', node3: 'online', remote1: 'online' },
    fence: { node2: ['success'], node3: ['success', 'success'], remote1: ['success', 'success'] },
  },
  '12-all-online-after-recovery.xml': {
    conditions: { node1: 'online', node2: 'online', node3: 'online', remote1: 'online' },
    fence: { node2: ['success'], node3: ['success', 'success'], remote1: ['success', 'success'] },
  },
};

test('the reference crm_mon outputs are there', () => {
  const outputs = crmMonFiles().filter((f) => !f.startsWith('cib-'));
  // Every recorded crm_mon output has an expectation below: a new recording must get one too.
  assert.deepEqual(outputs, Object.keys(expected).sort());
});

for (const [file, want] of Object.entries(expected)) {
  test(`parses ${file}`, () => {
    const snap = parseCrmMonXml(readFileSync(crmMonFile(file), 'utf8'), at);
    assert.equal(snap.takenAt, at);
    assert.equal(snap.quorate, true);
    assert.equal(snap.maintenanceMode, false);
    assert.equal(snap.stonithEnabled, true);
    assert.deepEqual(Object.fromEntries(snap.nodes.map((n) => [n.name, conditionOf(n)])), want.conditions);
    assert.equal(snap.nodes.find((n) => n.name === 'remote1')?.type, 'remote');
    assert.equal(snap.nodes.find((n) => n.name === 'node1')?.type, 'member');
    if (want.fence === 'null') assert.equal(snap.fenceHistory, null);
    else if (want.fence === 'none') assert.deepEqual(snap.fenceHistory, []);
    else {
      const byTarget: Record<string, string[]> = {};
      for (const e of snap.fenceHistory ?? []) (byTarget[e.target] ??= []).push(e.status);
      assert.deepEqual(byTarget, want.fence);
    }
  });
}

test('a fence event carries action, completion and who did it', () => {
  const snap = parseCrmMonXml(readFileSync(crmMonFile('08-remote1-offline-fenced.xml'), 'utf8'), at);
  assert.deepEqual(snap.fenceHistory?.[0], {
    target: 'remote1',
    action: 'off',
    status: 'success',
    completed: '2026-11-22 02:07:40Z',
    origin: 'node2',
    delegate: 'node1',
  });
});

test('the saved CIBs (cibadmin --query) are not crm_mon output: a clear error', () => {
  const cibs = crmMonFiles().filter((f) => f.startsWith('cib-'));
  assert.ok(cibs.length >= 1);
  for (const f of cibs) {
    assert.throws(
      () => parseCrmMonXml(readFileSync(crmMonFile(f), 'utf8'), at),
      (e: Error) => {
        assert.ok(e instanceof CrmMonParseError);
        assert.match(e.message, /root element must be <pacemaker-result> or <crm_mon>, got <cib>/);
        return true;
      },
    );
  }
});

test('no quorum and no DC both mean "not quorate"', () => {
  const base = `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml --fence-history=3"><summary>DC<cluster_options stonith-enabled="true" maintenance-mode="true"/></summary>
    <nodes><node name="a" online="true" type="member"/></nodes><status code="0" message="OK"/></pacemaker-result>`;
  const noQuorum = parseCrmMonXml(base.replace('DC', '<current_dc present="true" name="a" with_quorum="false"/>'), at);
  assert.equal(noQuorum.quorate, false);
  assert.equal(noQuorum.maintenanceMode, true);
  const noDc = parseCrmMonXml(base.replace('DC', '<current_dc present="false"/>'), at);
  assert.equal(noDc.quorate, false);
  const ok = parseCrmMonXml(base.replace('DC', '<current_dc present="true" name="a" with_quorum="true"/>'), at);
  assert.equal(ok.quorate, true);
  assert.equal(ok.nodes.length, 1, 'a single <node> is still a list');
});

test('errors crm_mon reports and broken output become CrmMonParseError with the reason', () => {
  const notConnected = `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <status code="102" message="Not connected"><errors><error>crm_mon: Connection to cluster failed: Connection refused</error></errors></status>
</pacemaker-result>`;
  assert.throws(() => parseCrmMonXml(notConnected, at), /status 102 \(Not connected\): crm_mon: Connection to cluster failed: Connection refused/);
  assert.throws(() => parseCrmMonXml('<pacemaker-result><status code="0" message="OK"/></pacemaker-result>', at), /no <summary> or <nodes>/);
  assert.throws(() => parseCrmMonXml('<pacemaker-result><summary>', at), CrmMonParseError);
  assert.throws(() => parseCrmMonXml('', at), CrmMonParseError);
  assert.throws(() => parseCrmMonXml('<pacemaker-result><summary/><nodes><node online="true"/></nodes></pacemaker-result>', at), /no name/);
});
