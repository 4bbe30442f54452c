// The serve command's end (src/cli/shutdown.ts): a stop bounded by shutdown_timeout, its exit codes, and what a
// second signal does. Signals are delivered with process.emit, so the test process itself is never signalled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { runUntilSignal } from '../../src/cli/shutdown.ts';
import type { Running } from '../../src/roles/types.ts';

function capture() {
  const lines: { msg: string; not_stopped?: string[] }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { log, lines };
}

const never = (pending: string[]): Running => ({ stop: () => new Promise<void>(() => undefined), pending: () => pending });

test('a clean stop exits 0; a failed stop exits 1', async () => {
  const { log, lines } = capture();
  const ok = runUntilSignal({ stop: async () => undefined }, log, 5000);
  process.emit('SIGTERM', 'SIGTERM');
  assert.equal(await ok, 0);
  const failed = runUntilSignal({ stop: async () => Promise.reject(new Error('outbox busy')) }, log, 5000);
  process.emit('SIGINT', 'SIGINT');
  assert.equal(await failed, 1);
  assert.ok(lines.some((l) => l.msg === 'error while stopping'));
  assert.equal(process.listenerCount('SIGTERM') + process.listenerCount('SIGINT'), 0, 'no signal handler left behind');
});

test('past shutdown_timeout: exit 1 with a line naming what did not stop; a SIGTERM meanwhile changes nothing', async () => {
  const { log, lines } = capture();
  const t0 = Date.now();
  const code = runUntilSignal(never(['monitors and outbox (instance monitor)', 'libvirt compute driver']), log, 300);
  process.emit('SIGINT', 'SIGINT');
  process.emit('SIGTERM', 'SIGTERM'); // what scripts/lab.sh forwards on Ctrl-C
  assert.equal(await code, 1);
  assert.ok(Date.now() - t0 >= 290);
  const last = lines.at(-1)!;
  assert.match(
    last.msg,
    /did not stop within shutdown_timeout \(0\.3 s\); exiting anyway\. Not stopped: monitors and outbox \(instance monitor\); libvirt compute driver/,
  );
  assert.deepEqual(last.not_stopped, ['monitors and outbox (instance monitor)', 'libvirt compute driver']);
});

test('a second SIGINT (Ctrl-C twice) exits 130 at once, naming what did not stop', async () => {
  const { log, lines } = capture();
  const code = runUntilSignal(never(['API and engine (engine)']), log, 60_000);
  process.emit('SIGINT', 'SIGINT');
  process.emit('SIGINT', 'SIGINT');
  assert.equal(await code, 130);
  assert.match(lines.at(-1)!.msg, /second SIGINT: exiting now without waiting for: API and engine \(engine\)/);
});
