// /v1/notifications[/{notification_id}]: failure reports from monitors. Accepting one means: validated, the host is
// known and not on maintenance, not a duplicate, stored durably (domain/intake.ts; then 202), and handed to the engine.

import type { Hono } from 'hono';
import { badRequest, notFound } from '../../domain/errors.ts';
import { acceptNotification } from '../../domain/intake.ts';
import type { NotificationStatus, NotificationType } from '../../domain/model.ts';
import type { NotificationFilters } from '../../store/types.ts';
import { atLeast, type ApiEnv } from '../context.ts';
import { notificationView } from '../format.ts';
import { methodNotAllowed } from '../middleware/faults.ts';
import { isUuidLike, parseIsoTime } from '../validation/formats.ts';
import { lastParam, listing, listParams, listQuery } from '../validation/params.ts';
import { validate, validators } from '../validation/schemas.ts';
import { authorize, bodyOf, cachedReply, param, queryOf, reply, requestContext, type ResourceDeps } from './common.ts';
import { notificationData } from '../../observe/events.ts';

const RULE = (action: string) => `os_masakari_api:notifications:${action}`;
const SORT_KEYS = new Set(['created_at', 'type', 'generated_time', 'updated_at', 'uuid', 'payload', 'status', 'source_host_uuid']);

interface NotificationBody {
  notification: { type: NotificationType; hostname: string; generated_time: string; payload: Record<string, string> };
}

const PAYLOAD_VALIDATORS = {
  COMPUTE_HOST: validators.computeHostPayload,
  VM: validators.vmPayload,
  PROCESS: validators.processPayload,
} as const;

export const notificationNotFound = (id: string) => notFound(`No notification with id ${id}.`);

function filtersOf(q: Record<string, string[]>): NotificationFilters {
  const f: NotificationFilters = {};
  const status = lastParam(q, 'status');
  if (status !== undefined) {
    // Masakari compares the raw text, so "new,error" matches nothing there; we read it as a list.
    const list = status
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.length === 1) f.status = list[0] as NotificationStatus;
    else f.statuses = list;
  }
  const type = lastParam(q, 'type');
  if (type !== undefined) f.type = type;
  const host = lastParam(q, 'source_host_uuid');
  if (host !== undefined) f.sourceHostUuid = host;
  // The code reads generated-since; the api-ref documents generated_since: accept both.
  const since = lastParam(q, 'generated-since') ?? lastParam(q, 'generated_since');
  if (since !== undefined) {
    const t = parseIsoTime(since);
    if (!t) throw badRequest('Invalid generated-since value');
    f.generatedSince = t;
  }
  return f;
}

export function notificationRoutes(app: Hono<ApiEnv>, d: ResourceDeps): void {
  app.get('/notifications', async (c) => {
    authorize(c, d, RULE('index'));
    return cachedReply(c, d, async () => {
      const q = queryOf(c);
      const p = listParams(q, SORT_KEYS, d.maxLimit);
      const filters = filtersOf(q);
      const list = await listing(p, () => d.store.listNotifications(listQuery(p, filters)));
      return { notifications: list.map((n) => notificationView(n)) };
    });
  });

  app.get('/notifications/:notification_id', async (c) => {
    authorize(c, d, RULE('detail'));
    const id = param(c, 'notification_id');
    if (!isUuidLike(id)) throw notificationNotFound(id);
    return cachedReply(c, d, async () => {
      const n = await d.store.getNotification(id);
      if (!n) throw notificationNotFound(id);
      // 1.1 adds the recovery workflow's progress, which the engine persists task by task.
      const tasks = atLeast(c.get('version')!, 1, 1) ? await d.store.listTasks(n.uuid) : undefined;
      return { notification: notificationView(n, tasks) };
    });
  });

  app.post('/notifications', async (c) => {
    const { notification: b } = validate<NotificationBody>(validators.notificationCreate, bodyOf(c));
    d.policy.enforce(RULE('create'), c.get('caller'));
    validate(PAYLOAD_VALIDATORS[b.type], b.payload);

    // The intake rules (known host, not on maintenance, not a duplicate) are shared with the simulator.
    const n = await acceptNotification(
      { store: d.store, duplicateWindowMs: d.duplicateWindowMs, now: () => d.env.now(), uuid: () => d.env.uuid() },
      { type: b.type, hostname: b.hostname, generatedTime: parseIsoTime(b.generated_time)!, payload: b.payload },
    );
    // Masakari sends create.start just before its INSERT (after the host, maintenance and duplicate checks) and
    // create.end after it; our check and INSERT are one store call, so both follow it, start without the new ids.
    const context = requestContext(c);
    d.publish('notification.create.start', { notification: notificationData(n, { ids: false }), context });
    d.publish('notification.create.end', { notification: notificationData(n), context });
    try {
      d.onNotificationAccepted?.(n);
    } catch (e) {
      // The notification is stored; the engine's periodic scan picks it up even if the hand-over failed.
      d.log.error({ err: e, notification: n.uuid }, 'handing the accepted notification to the engine failed');
    }
    return reply(c, 202, { notification: notificationView(n) });
  });

  app.put('/notifications/:notification_id', methodNotAllowed('update'));
  app.delete('/notifications/:notification_id', methodNotAllowed('delete'));
  app.post('/notifications/:notification_id/action', methodNotAllowed('action'));
}
