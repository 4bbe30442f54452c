// /v1/segments/{segment_id}/hosts[/{host_id}]: the hosts of a failover segment. A host name must be a compute host
// the HostCatalog knows (Masakari asks Nova), and is unique across all segments.

import type { Hono } from 'hono';
import { MasakariError, badRequest, conflict, notFound } from '../../domain/errors.ts';
import type { Host } from '../../domain/model.ts';
import type { HostPatch } from '../../store/types.ts';
import type { ApiEnv } from '../context.ts';
import { hostView, segmentView } from '../format.ts';
import { isUuidLike } from '../validation/formats.ts';
import { boolFilter, lastParam, listing, listParams, listQuery, strictBool } from '../validation/params.ts';
import { validate, validators } from '../validation/schemas.ts';
import { authorize, bodyOf, cachedReply, noContent, param, queryOf, reply, requestContext, type ResourceDeps } from './common.ts';
import { hostData } from '../../observe/events.ts';
import { segmentNotFound } from './segments.ts';

const RULE = (action: string) => `os_masakari_api:os-hosts:${action}`;
const SORT_KEYS = new Set(['created_at', 'type', 'name', 'updated_at', 'uuid', 'reserved', 'on_maintenance']);

interface HostBody {
  host: {
    name?: string;
    type?: string | null;
    control_attributes?: string | null;
    reserved?: boolean | string;
    on_maintenance?: boolean | string;
  };
}

const hostNotInSegment = (hostId: string, segmentId: string) => notFound(`Host '${hostId}' under failover_segment '${segmentId}' could not be found.`);

/** Masakari's schema allows null for these, but a host cannot be stored without them: say so instead of failing. */
function rejectNull(field: string, value: unknown): void {
  if (value === null) throw badRequest(`Invalid input for field/attribute ${field}. Value: None. None is not of type 'string'`);
}

export function hostRoutes(app: Hono<ApiEnv>, d: ResourceDeps): void {
  const segmentOf = async (id: string) => {
    const s = await d.store.getSegment(id);
    if (!s) throw segmentNotFound(id);
    return s;
  };
  const hostIn = async (segmentId: string, hostId: string): Promise<Host> => {
    const h = await d.store.getHost(hostId);
    if (!h || h.segmentUuid !== segmentId) throw hostNotInSegment(hostId, segmentId);
    return h;
  };
  const requireComputeHost = async (name: string) => {
    let exists: boolean;
    try {
      exists = await d.hostCatalog.hostExists(name);
    } catch (e) {
      d.log.error({ err: e, host: name }, 'compute host lookup failed');
      throw new MasakariError(503, 'serviceUnavailable', `Could not check compute host ${name}: the compute service did not answer.`);
    }
    if (!exists) throw badRequest(`Compute service with name ${name} could not be found.`);
  };

  app.get('/segments/:segment_id/hosts', async (c) => {
    authorize(c, d, RULE('index'));
    return cachedReply(c, d, async () => {
      const q = queryOf(c);
      const p = listParams(q, SORT_KEYS, d.maxLimit);
      const segment = await segmentOf(param(c, 'segment_id'));
      // name and control_attributes are accepted and ignored, as in Masakari.
      const filters = {
        segmentUuid: segment.uuid,
        type: lastParam(q, 'type'),
        onMaintenance: boolFilter(q, 'on_maintenance'),
        reserved: boolFilter(q, 'reserved'),
      };
      const hosts = await listing(p, () => d.store.listHosts(listQuery(p, filters)));
      const segmentJson = segmentView(segment); // the same embedded segment in every host: build it once
      return { hosts: hosts.map((h) => hostView(h, segment, segmentJson)) };
    });
  });

  app.get('/segments/:segment_id/hosts/:host_id', async (c) => {
    authorize(c, d, RULE('detail'));
    const segmentId = param(c, 'segment_id');
    const hostId = param(c, 'host_id');
    if (!isUuidLike(hostId)) throw notFound(`No host with id ${hostId}.`);
    return cachedReply(c, d, async () => {
      const h = await hostIn(segmentId, hostId);
      return { host: hostView(h, await segmentOf(h.segmentUuid)) };
    });
  });

  app.post('/segments/:segment_id/hosts', async (c) => {
    const { host: b } = validate<HostBody>(validators.hostCreate, bodyOf(c));
    d.policy.enforce(RULE('create'), c.get('caller'));
    const segment = await segmentOf(param(c, 'segment_id'));
    rejectNull('type', b.type);
    rejectNull('control_attributes', b.control_attributes);
    const input = {
      name: b.name!,
      type: b.type!,
      controlAttributes: b.control_attributes!,
      onMaintenance: strictBool(b.on_maintenance ?? false),
      reserved: strictBool(b.reserved ?? false),
    };
    await requireComputeHost(input.name);
    const context = requestContext(c);
    d.publish('host.create.start', { host: hostData(input, segment), context });
    const created = await d.store.createHost(segment.uuid, input, d.env.now());
    d.publish('host.create.end', { host: hostData(created, segment), context });
    return reply(c, 201, { host: hostView(created, segment) });
  });

  app.put('/segments/:segment_id/hosts/:host_id', async (c) => {
    const { host: b } = validate<HostBody>(validators.hostUpdate, bodyOf(c));
    d.policy.enforce(RULE('update'), c.get('caller'));
    const h = await hostIn(param(c, 'segment_id'), param(c, 'host_id'));
    // Masakari refuses while any host of the segment has a notification being processed.
    if (await d.store.segmentInUse(h.segmentUuid)) {
      throw conflict(`Host ${h.uuid} can't be updated as it is in-use to process notifications.`);
    }
    if (b.name !== undefined) await requireComputeHost(b.name);
    const patch: HostPatch = {};
    if (b.name !== undefined) patch.name = b.name;
    if (b.type !== undefined) {
      rejectNull('type', b.type);
      patch.type = b.type!;
    }
    if (b.control_attributes !== undefined) {
      rejectNull('control_attributes', b.control_attributes);
      patch.controlAttributes = b.control_attributes!;
    }
    if (b.reserved !== undefined) patch.reserved = strictBool(b.reserved);
    if (b.on_maintenance !== undefined) patch.onMaintenance = strictBool(b.on_maintenance);
    const context = requestContext(c);
    const segment = await segmentOf(h.segmentUuid);
    // As Masakari: update.start shows the host with the change applied, before it is written.
    d.publish('host.update.start', { host: hostData({ ...h, ...patch }, segment), context });
    const updated = await d.store.updateHost(h.uuid, patch, d.env.now());
    d.publish('host.update.end', { host: hostData(updated, segment), context });
    return reply(c, 200, { host: hostView(updated, segment) });
  });

  app.delete('/segments/:segment_id/hosts/:host_id', async (c) => {
    authorize(c, d, RULE('delete'));
    const h = await hostIn(param(c, 'segment_id'), param(c, 'host_id'));
    if (await d.store.segmentInUse(h.segmentUuid)) {
      throw conflict(`Host ${h.uuid} can't be deleted as it is in-use to process notifications.`);
    }
    const context = requestContext(c);
    const segment = await segmentOf(h.segmentUuid);
    d.publish('host.delete.start', { host: hostData(h, segment), context });
    await d.store.deleteHost(h.uuid, d.env.now());
    // Masakari's delete.end has no id (the object's id is gone by then).
    d.publish('host.delete.end', { host: hostData(h, segment, { id: false }), context });
    return noContent(c);
  });
}
