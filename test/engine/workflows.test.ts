// Configurable task lists and custom task modules (Masakari's taskflow plugin points), and the task runner's
// persistence rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/load.ts';
import { resolveFlows, TaskConfigError } from '../../src/core/engine/index.ts';
import { world, HOST_DOWN } from './harness.ts';

test('an unknown task name in a flow stops engine start with the config path and the known names', async () => {
  const config = parseConfig({ taskflow_driver_recovery_flows: { process_failure_recovery_tasks: { pre: ['disable_compute_nod_task'] } } }, 't');
  await assert.rejects(resolveFlows(config), (e: unknown) => {
    assert.ok(e instanceof TaskConfigError);
    assert.match(e.message, /process_failure_recovery_tasks\.pre: unknown task 'disable_compute_nod_task'/);
    assert.match(e.message, /disable_compute_node_task/);
    return true;
  });
});

test('a custom module that does not export a task is refused clearly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-task-'));
  try {
    writeFileSync(join(dir, 'bad.mjs'), 'export const nothing = 1;\n');
    const config = parseConfig({ taskflow_driver_recovery_flows: { custom_task_modules: { bad: 'bad.mjs' } } }, 't');
    await assert.rejects(resolveFlows(config, dir), /must export \(default or 'task'\) an object with displayName and execute/);
    const missing = parseConfig({ taskflow_driver_recovery_flows: { custom_task_modules: { gone: 'gone.mjs' } } }, 't');
    await assert.rejects(resolveFlows(missing, dir), /custom task 'gone': cannot load module/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a custom task from a module runs in the host flow, sees the flow values and reports progress', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-task-'));
  try {
    writeFileSync(
      join(dir, 'notify-ops.mjs'),
      `export default {
        displayName: 'NotifyOperatorsTask',
        async execute(ctx) {
          const list = ctx.values.instance_list;
          await ctx.update('Paging operators about host ' + ctx.values.host_name + ' (' + list.length + ' instances)', 1.0);
          return { paged: true };
        },
      };\n`,
    );
    const w = await world({
      config: {
        taskflow_driver_recovery_flows: {
          host_auto_failure_recovery_tasks: { post: ['evacuate_instances_task', 'notify_operators'] },
          custom_task_modules: { notify_operators: join(dir, 'notify-ops.mjs') },
        },
      },
    });
    w.cloud.addServer({ id: 'vm1', host: 'h1' });
    w.cloud.powerOff('h1');
    const e = w.engine();
    await e.start();
    const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
    await w.drive(e.process(n.uuid));
    assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
    const tasks = await w.store.listTasks(n.uuid);
    assert.deepEqual(
      tasks.map((t) => t.name),
      ['FenceHostTask', 'DisableComputeServiceTask', 'PrepareHAEnabledInstancesTask', 'EvacuateInstancesTask', 'NotifyOperatorsTask'],
    );
    assert.equal(tasks[4]!.details[0]!.message, 'Paging operators about host h1 (1 instances)');
    await w.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a task list without the evacuation: the flow only disables the service (operators can trim flows)', async () => {
  const w = await world({ config: { taskflow_driver_recovery_flows: { host_auto_failure_recovery_tasks: { main: [], post: [] } } } });
  w.cloud.addServer({ id: 'vm1', host: 'h1' });
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  assert.equal(w.cloud.servers.get('vm1')!.host, 'h1');
  assert.equal(w.cloud.serviceView('h1', 'nova-compute')!.status, 'disabled');
  await w.close();
});

test('a task whose input no earlier task provided fails the workflow naming task and input (not an empty value)', async () => {
  // Evacuation without the task that chooses the instances: instance_list is never set. It used to read as an empty
  // list and end `finished` with nothing evacuated.
  const w = await world({ config: { taskflow_driver_recovery_flows: { host_auto_failure_recovery_tasks: { main: ['evacuate_instances_task'], post: [] } } } });
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'True' } });
  w.cloud.powerOff('h1');
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  const after = (await w.store.getNotification(n.uuid))!;
  assert.equal(after.status, 'error');
  assert.match(after.lastError ?? '', /Task 'EvacuateInstancesTask' needs the flow value 'instance_list', which no earlier task of the workflow provided/);
  const tasks = await w.store.listTasks(n.uuid);
  assert.deepEqual(
    tasks.map((t) => [t.name, t.state]),
    [
      ['FenceHostTask', 'SUCCESS'],
      ['DisableComputeServiceTask', 'REVERTED'],
      ['EvacuateInstancesTask', 'REVERTED'],
    ],
  );
  assert.equal(w.cloud.servers.get('vm1')!.host, 'h1');
  await w.close();
});

test('evacuation is idempotent: an instance already active on another host is confirmed, not evacuated again', async () => {
  const w = await world({ hosts: ['h1', 'h2', 'h3'] });
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'True' } });
  w.cloud.addServer({ id: 'vm2', host: 'h1', metadata: { HA_Enabled: 'True' } });
  w.cloud.powerOff('h1');
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  const p = e.process(n.uuid);
  // As soon as prepare has chosen the instances, vm2 turns up active elsewhere (moved by a run before a crash).
  const chosen = async () => (await w.store.listVMoves({ filters: { notificationUuid: n.uuid }, sort: [], limit: 10 })).length === 2;
  while (!(await chosen())) await w.env.advance(5);
  w.cloud.servers.get('vm2')!.host = 'h3';
  await w.drive(p);
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  assert.equal(w.cloud.evacuations.get('vm2') ?? 0, 0);
  assert.equal(w.cloud.evacuations.get('vm1'), 1);
  const moves = await w.store.listVMoves({ filters: { notificationUuid: n.uuid }, sort: [{ key: 'created_at', dir: 'asc' }], limit: 10 });
  assert.deepEqual(
    moves.map((m) => [m.instanceUuid, m.status, m.destHost]),
    [
      ['vm1', 'succeeded', 'h2'],
      ['vm2', 'succeeded', 'h3'],
    ],
  );
  await w.close();
});

test('a custom task ends the workflow by error name: SkipRecovery -> finished, IgnoreRecovery -> ignored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-task-'));
  try {
    writeFileSync(
      join(dir, 'gate.mjs'),
      `export const task = {
        displayName: 'MaintenanceWindowTask',
        async execute(ctx) {
          const e = new Error('Skipped: instance ' + ctx.values.instance_uuid + ' is in a maintenance window');
          e.name = ctx.values.instance_uuid === 'vm-ignore' ? 'IgnoreRecovery' : 'SkipRecovery';
          throw e;
        },
      };\n`,
    );
    const w = await world({
      config: {
        taskflow_driver_recovery_flows: {
          instance_failure_recovery_tasks: { pre: ['maintenance_window', 'stop_instance_task'] },
          custom_task_modules: { maintenance_window: join(dir, 'gate.mjs') },
        },
      },
    });
    w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'True' } });
    w.cloud.addServer({ id: 'vm-ignore', host: 'h1', metadata: { HA_Enabled: 'True' } });
    const e = w.engine();
    await e.start();
    const a = await w.notify('VM', 'h1', { event: 'LIFECYCLE', instance_uuid: 'vm1', vir_domain_event: 'STOPPED_FAILED' });
    const b = await w.notify('VM', 'h1', { event: 'LIFECYCLE', instance_uuid: 'vm-ignore', vir_domain_event: 'STOPPED_FAILED' });
    await w.drive(e.process(a.uuid));
    await w.drive(e.process(b.uuid));
    const na = (await w.store.getNotification(a.uuid))!;
    assert.equal(na.status, 'finished');
    assert.equal(na.lastError, 'Skipped: instance vm1 is in a maintenance window');
    assert.equal((await w.store.getNotification(b.uuid))!.status, 'ignored');
    assert.equal(w.events.filter((l) => l.startsWith('stop ')).length, 0, 'the stop task never ran');
    await w.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
