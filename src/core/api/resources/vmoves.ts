// /v1/notifications/{notification_id}/vmoves[/{vmove_id}] (microversion 1.3): the VM moves a host recovery made.
// Upstream serves them at any version (a bug); we gate them at 1.3, below which the resource does not exist.

import type { Hono } from 'hono';
import { badRequest, notFound } from '../../domain/errors.ts';
import { atLeast, type ApiEnv } from '../context.ts';
import { vmoveView } from '../format.ts';
import { methodNotAllowed } from '../middleware/faults.ts';
import { isUuidLike } from '../validation/formats.ts';
import { lastParam, listing, listParams, listQuery } from '../validation/params.ts';
import { authorize, cachedReply, param, queryOf, type Ctx, type ResourceDeps } from './common.ts';
import { notificationNotFound } from './notifications.ts';

const RULE = (action: string) => `os_masakari_api:vmoves:${action}`;
const SORT_KEYS = new Set(['created_at', 'updated_at', 'uuid', 'start_time', 'type', 'status']);

function requireV13(c: Ctx): void {
  if (!atLeast(c.get('version')!, 1, 3)) throw notFound('The resource could not be found.');
}

export function vmoveRoutes(app: Hono<ApiEnv>, d: ResourceDeps): void {
  const hostNotification = async (id: string) => {
    const n = isUuidLike(id) ? await d.store.getNotification(id) : undefined;
    if (!n) throw notificationNotFound(id);
    if (n.type !== 'COMPUTE_HOST') throw badRequest(`This notification ${id} without vm moves.`);
    return n;
  };

  app.get('/notifications/:notification_id/vmoves', async (c) => {
    requireV13(c);
    authorize(c, d, RULE('index'));
    return cachedReply(c, d, async () => {
      const q = queryOf(c);
      const p = listParams(q, SORT_KEYS, d.maxLimit);
      const n = await hostNotification(param(c, 'notification_id'));
      const filters = { notificationUuid: n.uuid, status: lastParam(q, 'status'), type: lastParam(q, 'type') };
      const list = await listing(p, () => d.store.listVMoves(listQuery(p, filters)));
      return { vmoves: list.map(vmoveView) };
    });
  });

  app.get('/notifications/:notification_id/vmoves/:vmove_id', async (c) => {
    requireV13(c);
    authorize(c, d, RULE('detail'));
    return cachedReply(c, d, async () => {
      const n = await hostNotification(param(c, 'notification_id'));
      const id = param(c, 'vmove_id');
      const v = isUuidLike(id) ? await d.store.getVMove(n.uuid, id) : undefined;
      if (!v) throw notFound(`No vm move with id ${id}.`);
      return { vmove: vmoveView(v) };
    });
  });

  const notAllowed = (action: string) => async (c: Ctx) => {
    requireV13(c);
    return methodNotAllowed(action)(c);
  };
  app.post('/notifications/:notification_id/vmoves', notAllowed('create'));
  app.put('/notifications/:notification_id/vmoves/:vmove_id', notAllowed('update'));
  app.delete('/notifications/:notification_id/vmoves/:vmove_id', notAllowed('delete'));
}
