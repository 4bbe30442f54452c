// The lease fence of a workflow's writes (Store LeaseFence), the same statement in both dialects. Run first inside
// the write's own transaction, it lets the write commit only while the fence's owner holds the notification's claim,
// unexpired at the write's `now`: a controller that lost its lease (its renewal stalled behind a database stall, its
// process paused) cannot land a checkpoint after another controller took the workflow over and read the checkpoints.
//
// It CHANGES the row (claim_expires_at + 1 microsecond, negligible next to any lease) rather than only reading it:
// on Galera, row locks and reads are local to a node and only written rows take part in certification, so a fenced
// write and a takeover's claim committed on two nodes at once must both write the notification row for the later
// one to fail certification (and, run again, see the other). On SQLite and a single MySQL the row lock suffices.

import { LeaseLostError } from '../errors.ts';
import type { LeaseFence } from '../types.ts';
import { us } from './rows.ts';

export const FENCE_SQL =
  'UPDATE notifications SET claim_expires_at = claim_expires_at + 1 WHERE uuid = ? AND deleted = 0 AND claimed_by = ? AND claim_expires_at > ?';

export const fenceParams = (fence: LeaseFence, now: Date): [string, string, number] => [fence.notificationUuid, fence.owner, us(now)];

/** Throws LeaseLostError unless the fence's UPDATE matched its row (`changed`: affected rows). */
export function checkFence(fence: LeaseFence, changed: number): void {
  if (changed !== 1) throw new LeaseLostError(fence.notificationUuid, fence.owner);
}
