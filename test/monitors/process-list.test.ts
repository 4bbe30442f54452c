import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { notifiedProcessName, parseProcessList } from '../../src/core/monitors/process/process-list.ts';
import { commandArgv } from '../../src/core/monitors/process/run-command.ts';
import { isRunning } from '../../src/core/monitors/process/proc-scan.ts';

// The file the real masakari-processmonitor 14.0.0 ran with (test/fixtures/README.md).
const reference = resolve(import.meta.dirname, '../fixtures/masakari-monitors/process_list.yaml');

test("masakari-monitors' own process_list.yaml (the one the real processmonitor used) parses unchanged", () => {
  const list = parseProcessList(readFileSync(reference, 'utf8'), reference);
  assert.deepEqual(list, [
    {
      process_name: '/usr/bin/masakari-fake-nova-compute-daemon',
      start_command: '/bin/false',
      pre_start_command: null,
      post_start_command: null,
      restart_command: '/bin/false',
      pre_restart_command: null,
      post_restart_command: null,
      run_as_root: false,
    },
  ]);
  assert.equal(notifiedProcessName(list[0]!.process_name), 'masakari-fake-nova-compute-daemon');
});

test('bad lists give a message naming the entry and the key', () => {
  const bad = (text: string) => () => parseProcessList(text, '/etc/masakari/process_list.yaml');
  assert.throws(bad('process_name: x'), /process list \/etc\/masakari\/process_list.yaml: must be a YAML list/);
  assert.throws(bad('- process_name: a\n- start_command: b\n'), /entry 2\.process_name/);
  assert.throws(bad('- process_name: a\n  run_as_root: maybe\n'), /entry 1\.run_as_root/);
  assert.throws(bad('- process_name: a\n- process_name: a\n'), /listed twice/);
  assert.throws(bad('- [a'), /not valid YAML/);
  assert.deepEqual(parseProcessList('', 'x'), []);
  assert.equal(parseProcessList('- process_name: a\n  run_as_root: True\n', 'x')[0]?.run_as_root, true);
});

test('commands split on whitespace without a shell; run_as_root uses sudo -n only when not root', () => {
  assert.deepEqual(commandArgv('  systemctl   restart nova-compute ', false, false), ['systemctl', 'restart', 'nova-compute']);
  assert.deepEqual(commandArgv('systemctl restart nova-compute', true, false), ['sudo', '-n', 'systemctl', 'restart', 'nova-compute']);
  assert.deepEqual(commandArgv('systemctl restart nova-compute', true, true), ['systemctl', 'restart', 'nova-compute']);
});

test('a process counts as running when its name is in a command line, never our own', () => {
  const table = [
    { pid: 10, commandLine: '/usr/bin/python3 /usr/bin/nova-compute --config-file /etc/nova/nova.conf' },
    { pid: 11, commandLine: '[kworker/0:1]' },
  ];
  assert.equal(isRunning('/usr/bin/nova-compute', table, 1), true);
  assert.equal(isRunning('nova-api', table, 1), false);
  assert.equal(isRunning('kworker', table, 1), true);
  assert.equal(isRunning('/usr/bin/nova-compute', table, 10), false);
});
