// When the expiry job fails a `running` notification, it stops the workflow mid-evacuation. Servers that workflow
// had locked would stay locked forever: the stopped workflow skips its unlocks (it was aborted), and no later run
// will come. So the expiry job unlocks them here, once the workflow has stopped.
//
// Only servers the workflow itself locked (its checkpoints say so) and whose evacuation did not succeed (a
// succeeded one was unlocked before its success was recorded). A server the user had locked stays locked.

import type { Notification } from '../domain/model.ts';
import type { Logger } from '../log.ts';
import type { ComputeDriver } from '../ports/compute.ts';
import type { Store } from '../store/types.ts';
import { serversLockedByEvacuation } from './tasks/evacuate.ts';
import { listAllVMoves } from './tasks/host.ts';
import { errorMessage } from '../errors.ts';

export interface ExpiryUnlockDeps {
  store: Store;
  compute: ComputeDriver;
  log: Logger;
}

/** Returns the servers it unlocked (those whose unlock failed are logged and left out). */
export async function unlockAfterExpiry(d: ExpiryUnlockDeps, n: Notification): Promise<string[]> {
  const locked = serversLockedByEvacuation(await d.store.listTasks(n.uuid));
  if (locked.length === 0) return [];
  const succeeded = new Set<string>();
  // Oldest first, so the latest vmove of an instance decides.
  for (const v of await listAllVMoves(d.store, n.uuid)) v.status === 'succeeded' ? succeeded.add(v.instanceUuid) : succeeded.delete(v.instanceUuid);
  const unlocked: string[] = [];
  for (const id of locked.filter((i) => !succeeded.has(i))) {
    try {
      await d.compute.unlockServer(id);
      unlocked.push(id);
    } catch (e) {
      d.log.warn({ notification: n.uuid, instance: id, err: errorMessage(e) }, 'could not unlock a server of an expired notification');
    }
  }
  if (unlocked.length) {
    d.log.warn({ notification: n.uuid, instances: unlocked }, `Unlocked ${unlocked.length} server(s) that the expired notification's workflow had locked.`);
  }
  return unlocked;
}
