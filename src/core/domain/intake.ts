// Notification intake: the rules a failure report must pass to be accepted, in Masakari's order. One function for
// every door a notification comes in by: the API (POST /v1/notifications, after its schema and policy checks) and
// the simulator (src/sim), so a scenario is refused exactly where the API would refuse it.
//  1. the host must be known (400);
//  2. a host on maintenance takes no notification of any type (409), checked before the duplicate test as Masakari
//     does (a resent host-down usually meets this one);
//  3. the same report within the duplicate window is refused (409);
// then it is stored durably with status new; handing it to the engine is the caller's part.

import type { Store } from '../store/types.ts';
import { badRequest, conflict } from './errors.ts';
import type { Notification, NotificationType } from './model.ts';

export interface NotificationReport {
  type: NotificationType;
  hostname: string;
  generatedTime: Date;
  payload: Record<string, unknown>;
}

export interface IntakeDeps {
  store: Pick<Store, 'getHostByName' | 'createNotification'>;
  duplicateWindowMs: number;
  now: () => Date;
  /** Asked once, only for a notification that passes the rules. */
  uuid: () => string;
}

/** Stores the report as a new notification, or throws the MasakariError (400, 409) the API answers with. */
export async function acceptNotification(d: IntakeDeps, r: NotificationReport): Promise<Notification> {
  const host = await d.store.getHostByName(r.hostname);
  if (!host) throw badRequest(`Host with name ${r.hostname} could not be found.`);
  if (host.onMaintenance) {
    throw conflict(`Notification received from host ${r.hostname} of type '${r.type}' is ignored as the host is already under maintenance.`);
  }
  const result = await d.store.createNotification(
    { uuid: d.uuid(), type: r.type, generatedTime: r.generatedTime, sourceHostUuid: host.uuid, payload: r.payload },
    d.duplicateWindowMs,
    d.now(),
  );
  if (!result.created) throw conflict(`Notification received from host ${r.hostname} of type ${r.type} is duplicate.`);
  return result.notification;
}
