// The driver against the real crm_mon program: it renders the saved CIBs (real `cibadmin --query` outputs) without
// any daemon, and answers "not connected" when there is no cluster.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireComponent, haveCommand } from '../../../support/components.ts';
import { PacemakerDriver } from '../../../../src/drivers/cluster/pacemaker/pacemaker-driver.ts';
import { conditionOf } from '../../../../src/core/monitors/host/decide.ts';
import { crmMonFile } from './reference.ts';

const haveCrmMon = haveCommand('crm_mon');

// crm_mon is handed a copy: with CIB_file it may rewrite the file (schema upgrade), and the reference stays pristine.
const dir = mkdtempSync(join(tmpdir(), 'masakari-crm-mon-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function cibCopy(name: string): string {
  const path = join(dir, name);
  copyFileSync(crmMonFile(name), path);
  return path;
}

test('real crm_mon renders the saved all-online CIB and the driver parses it', async (t) => {
  if (!requireComponent(t, 'crm_mon (pacemaker-cli-utils)', haveCrmMon)) return;
  const driver = new PacemakerDriver({ env: { CIB_file: cibCopy('cib-01-all-online.xml') }, timeoutMs: 20_000 });
  const snap = await driver.snapshot();
  assert.equal(snap.quorate, true);
  assert.deepEqual(
    snap.nodes.map((n) => [n.name, n.type, conditionOf(n)]),
    [
      ['node1', 'member', 'online'],
      ['node2', 'member', 'online'],
      ['node3', 'member', 'online'],
      ['remote1', 'remote', 'online'],
    ],
  );
  // A saved CIB has no fencer to ask: crm_mon prints no history, and the request asked for successes -> [].
  assert.deepEqual(snap.fenceHistory, []);
});

test('real crm_mon renders the saved CIB with node2 fenced: node2 offline, not unclean', async (t) => {
  if (!requireComponent(t, 'crm_mon (pacemaker-cli-utils)', haveCrmMon)) return;
  const driver = new PacemakerDriver({ env: { CIB_file: cibCopy('cib-11-node2-offline-after-fencing.xml') }, timeoutMs: 20_000 });
  const snap = await driver.snapshot();
  const node2 = snap.nodes.find((n) => n.name === 'node2');
  assert.ok(node2);
  assert.equal(conditionOf(node2), 'offline');
  assert.equal(node2.expectedUp, false);
  assert.deepEqual(
    snap.nodes.filter((n) => n.name !== 'node2').map((n) => conditionOf(n)),
    ['online', 'online', 'online'],
  );
});

test("real crm_mon without a cluster: the driver reports crm_mon's own reason", async (t) => {
  if (!requireComponent(t, 'crm_mon (pacemaker-cli-utils)', haveCrmMon)) return;
  // CIB_file pointing at nothing readable makes crm_mon fail the same way whether or not a cluster runs here.
  const driver = new PacemakerDriver({ env: { CIB_file: '/nonexistent/cib.xml' }, timeoutMs: 20_000 });
  await assert.rejects(driver.snapshot(), (e: Error) => {
    assert.equal(e.name, 'CrmMonParseError');
    assert.match(e.message, /Could not connect to the CIB/);
    return true;
  });
});

test('a command that does not exist is a clear error, not a crash', async () => {
  const driver = new PacemakerDriver({ command: ['/nonexistent/crm_mon', '-1'] });
  await assert.rejects(driver.snapshot(), /\/nonexistent\/crm_mon -1 failed: command not found/);
});

test('a command printing something that is not XML is a clear error', async () => {
  const driver = new PacemakerDriver({ command: ['echo', 'hello'] });
  await assert.rejects(driver.snapshot(), /printed no XML/);
});

test('xmlFile mode reads a saved output; a missing file is a clear error', async () => {
  await assert.rejects(new PacemakerDriver({ xmlFile: '/nonexistent.xml' }).snapshot(), /cannot read crm_mon XML file \/nonexistent.xml/);
  const snap = await new PacemakerDriver({ xmlFile: crmMonFile('02-node3-unclean-fence-pending.xml') }).snapshot();
  assert.equal(snap.nodes.find((n) => n.name === 'node3')?.unclean, true);
});
