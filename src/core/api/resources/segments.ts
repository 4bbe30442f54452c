// /v1/segments[/{segment_id}]: failover segments.

import type { Hono } from 'hono';
import { conflict, notFound } from '../../domain/errors.ts';
import type { RecoveryMethod } from '../../domain/model.ts';
import type { SegmentPatch } from '../../store/types.ts';
import { atLeast, type ApiEnv } from '../context.ts';
import { segmentView } from '../format.ts';
import { methodNotAllowed } from '../middleware/faults.ts';
import { isUuidLike } from '../validation/formats.ts';
import { boolFilter, lastParam, listing, listParams, listQuery, strictBool } from '../validation/params.ts';
import { validate, validators } from '../validation/schemas.ts';
import { authorize, bodyOf, cachedReply, noContent, param, queryOf, reply, requestContext, type Ctx, type ResourceDeps } from './common.ts';
import { segmentData } from '../../observe/events.ts';

const RULE = (action: string) => `os_masakari_api:segments:${action}`;
const SORT_KEYS = new Set(['created_at', 'description', 'name', 'updated_at', 'uuid', 'recovery_method', 'service_type']);

interface SegmentBody {
  segment: {
    name?: string;
    description?: string | null;
    recovery_method?: RecoveryMethod;
    service_type?: string;
    enabled?: boolean | string;
  };
}

export const segmentNotFound = (id: string) => notFound(`No failover segment with id ${id}.`);

async function findSegment(d: ResourceDeps, id: string) {
  const s = await d.store.getSegment(id);
  if (!s) throw segmentNotFound(id);
  return s;
}

export function segmentRoutes(app: Hono<ApiEnv>, d: ResourceDeps): void {
  app.get('/segments', async (c) => {
    authorize(c, d, RULE('index'));
    return cachedReply(c, d, async () => {
      const q = queryOf(c);
      const p = listParams(q, SORT_KEYS, d.maxLimit);
      const filters = {
        recoveryMethod: lastParam(q, 'recovery_method'),
        serviceType: lastParam(q, 'service_type'),
        enabled: boolFilter(q, 'enabled'),
      };
      const segments = await listing(p, () => d.store.listSegments(listQuery(p, filters)));
      return { segments: segments.map(segmentView) };
    });
  });

  app.get('/segments/:segment_id', async (c) => {
    authorize(c, d, RULE('detail'));
    const id = param(c, 'segment_id');
    if (!isUuidLike(id)) throw segmentNotFound(id);
    return cachedReply(c, d, async () => ({ segment: segmentView(await findSegment(d, id)) }));
  });

  app.post('/segments', async (c: Ctx) => {
    const v12 = atLeast(c.get('version')!, 1, 2);
    const { segment: s } = validate<SegmentBody>(v12 ? validators.segmentCreateV12 : validators.segmentCreate, bodyOf(c));
    d.policy.enforce(RULE('create'), c.get('caller'));
    const input = {
      name: s.name!,
      description: s.description ?? null,
      recoveryMethod: s.recovery_method!,
      serviceType: s.service_type!,
      enabled: strictBool(s.enabled ?? true),
    };
    const context = requestContext(c);
    d.publish('segment.create.start', { segment: segmentData(input), context });
    const created = await d.store.createSegment(input, d.env.now());
    d.publish('segment.create.end', { segment: segmentData(created), context });
    return reply(c, 201, { segment: segmentView(created) });
  });

  app.put('/segments/:segment_id', async (c) => {
    const v12 = atLeast(c.get('version')!, 1, 2);
    const { segment: s } = validate<SegmentBody>(v12 ? validators.segmentUpdateV12 : validators.segmentUpdate, bodyOf(c));
    d.policy.enforce(RULE('update'), c.get('caller'));
    const id = param(c, 'segment_id');
    const before = await findSegment(d, id);
    if (await d.store.segmentInUse(id)) {
      throw conflict(`Failover segment ${id} can't be updated as it is in-use to process notifications.`);
    }
    const patch: SegmentPatch = {};
    if (s.name !== undefined) patch.name = s.name;
    if (s.description !== undefined) patch.description = s.description;
    if (s.recovery_method !== undefined) patch.recoveryMethod = s.recovery_method;
    if (s.service_type !== undefined) patch.serviceType = s.service_type;
    if (s.enabled !== undefined) patch.enabled = strictBool(s.enabled);
    const context = requestContext(c);
    // As Masakari: update.start shows the segment with the change applied, before it is written.
    d.publish('segment.update.start', { segment: segmentData({ ...before, ...patch }), context });
    const updated = await d.store.updateSegment(id, patch, d.env.now());
    d.publish('segment.update.end', { segment: segmentData(updated), context });
    return reply(c, 200, { segment: segmentView(updated) });
  });

  app.delete('/segments/:segment_id', async (c) => {
    authorize(c, d, RULE('delete'));
    const id = param(c, 'segment_id');
    const segment = await findSegment(d, id);
    if (await d.store.segmentInUse(id)) {
      throw conflict(`Failover segment (${id}) can't be deleted as it is in-use to process notifications.`);
    }
    const context = requestContext(c);
    d.publish('segment.delete.start', { segment: segmentData(segment), context });
    await d.store.deleteSegment(id, d.env.now());
    // Masakari's delete.end has no id (the object's id is gone by then).
    const { id: _gone, ...rest } = segmentData(segment);
    d.publish('segment.delete.end', { segment: rest, context });
    return noContent(c);
  });

  app.post('/segments/:segment_id/action', methodNotAllowed('action'));
}
