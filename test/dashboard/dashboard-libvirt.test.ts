// The dashboard on the libvirt lab: `masakari --role=all` (a child process, as an operator runs it) protecting a
// real QEMU VM on a private libvirtd. Kill the VM's QEMU with the browser on the overview: the recovery appears
// there live, its page follows it to `finished` (the VM confirmed) from the controller's own event stream, without
// a reload. A test task holds the workflow at a known point (test/e2e/fixtures/gate-task.ts) so the browser is
// on the recovery page before it ends, instead of racing a recovery that takes a second.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { AllInOne } from '../e2e/allinone-lab.ts';
import { LIBVIRT_LAB_COMPONENT, libvirtLabAvailable } from '../labs/libvirt/lab.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { LAPTOP, chromiumInstalled, js, launchBrowser, screenshot, textOf, waitJs } from './browser.ts';

const available = libvirtLabAvailable() && haveCommand('virsh');
const GATE_TASK = fileURLToPath(new URL('../e2e/fixtures/gate-task.ts', import.meta.url));
const HA = { name: 'dash-ha-vm', uuid: 'a0e1c5d2-0000-4000-8000-00000000da01' };

async function waitLog(lab: AllInOne, re: RegExp, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!re.test(lab.output())) {
    if (Date.now() > until) throw new Error(`log line ${re} not seen within ${ms} ms:\n${lab.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard on the libvirt lab (masakari --role=all, real QEMU)', { timeout: 300_000 }, () => {
  it("kill a protected VM's QEMU: the overview shows the recovery live, its page reaches finished without a reload", async (t) => {
    if (!requireComponent(t, `${LIBVIRT_LAB_COMPONENT} + virsh (libvirt-clients)`, available)) return;
    if (!requireComponent(t, 'chromium (Debian package)', chromiumInstalled())) return;
    const lab = await AllInOne.start();
    t.after(() => lab.stop());
    lab.defineDomain(HA.name, HA.uuid, true);
    const gate = join(lab.dir, 'gate-open');
    await lab.startMasakari(
      `taskflow_driver_recovery_flows:
  custom_task_modules: { test_gate_task: "${GATE_TASK}" }
  instance_failure_recovery_tasks: { pre: [instance_restart_limit_task, test_gate_task, stop_instance_task] }`,
      { E2E_RECOVERY_GATE_FILE: gate },
    );
    await waitLog(lab, new RegExp(`protecting domain ${HA.name}`));
    await waitLog(lab, /all-in-one role running/);

    const browser = await launchBrowser();
    t.after(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport(LAPTOP);
    const base = `http://127.0.0.1:${lab.port}/dashboard`;
    await page.goto(`${base}/`);
    await waitJs(page, `document.body.getAttribute('data-live-state') === 'open'`);
    assert.match((await textOf(page, '#ov-recoveries'))!, /No recovery in progress/);
    await js(page, `window.marker = 'overview'`);

    lab.killQemu(HA.name);
    // The overview learns of it from the stream: a link to the recovery appears without a reload.
    await waitJs(page, `!!document.querySelector('#ov-recoveries a[href*="/recoveries/"]')`, 60_000);
    assert.equal(await js(page, 'window.marker'), 'overview', 'no reload');
    await waitLog(lab, /TestGateTask RUNNING/);
    // Follow the link (read, then opened: the overview may replace that part under a click while the recovery runs).
    const href = (await js(page, `document.querySelector('#ov-recoveries a[href*="/recoveries/"]').getAttribute('href')`)) as string;
    await page.goto(new URL(href, base).href);
    await waitJs(page, `document.body.getAttribute('data-live-state') === 'open'`);
    await js(page, `window.marker = 'recovery'`);
    assert.equal(await js(page, `document.querySelector('[data-status]').getAttribute('data-status')`), 'running');
    assert.equal(await js(page, `document.querySelector('[data-instance-state]').getAttribute('data-instance-state')`), 'restarting');
    assert.match((await textOf(page, '#rc-tasks'))!, /TestGateTask RUNNING/);
    await screenshot(page, 'recovery-libvirt-running');

    writeFileSync(gate, '');
    await waitJs(page, `document.querySelector('[data-status]')?.getAttribute('data-status') === 'finished'`, 120_000);
    // Each part of the page is fetched on its own: the instance's part may come a moment after the summary.
    await waitJs(page, `document.querySelector('[data-instance-state]')?.getAttribute('data-instance-state') === 'confirmed'`);
    await waitJs(page, `document.querySelector('#rc-tasks')?.textContent.includes('ConfirmInstanceActiveTask')`);
    const tasks = (await textOf(page, '#rc-tasks'))!;
    for (const task of ['InstanceRestartLimitTask', 'TestGateTask', 'StopInstanceTask', 'StartInstanceTask', 'ConfirmInstanceActiveTask']) {
      assert.match(tasks, new RegExp(`${task} SUCCESS 100%`), tasks);
    }
    assert.match(tasks, new RegExp(`Confirmed instance '${HA.uuid}' vm_state is ACTIVE`));
    assert.equal(await js(page, 'window.marker'), 'recovery', 'the page reached finished without a reload');
    await screenshot(page, 'recovery-libvirt');
  });
});
