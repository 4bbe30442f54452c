// closeAsync() of the last connection resolves only once libvirt's event-loop thread is back from libvirt: after
// it, no native thread is left that a process exit would wait for (src/core/exit.ts, issue 16). Its own file, so
// that no other test's connection keeps the loop running.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireComponent } from '../../support/components.ts';
import { eventLoopState, LibvirtConnection, libvirtAvailable } from '../../../src/drivers/libvirt/index.ts';

test('the last close waits for the event loop to stop', async (t) => {
  if (!requireComponent(t, 'libvirt client library (Debian libvirt0)', libvirtAvailable())) return;
  for (let round = 0; round < 5; round++) {
    const a = LibvirtConnection.open('test:///default');
    const b = LibvirtConnection.open('test:///default');
    assert.deepEqual({ users: eventLoopState().users, running: eventLoopState().running }, { users: 2, running: true });
    await a.closeAsync();
    assert.equal(eventLoopState().running, true, 'still needed by the other connection');
    await b.closeAsync();
    assert.deepEqual({ users: eventLoopState().users, running: eventLoopState().running }, { users: 0, running: false }, `round ${round}`);
  }
});
