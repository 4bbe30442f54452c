// Our extension resources for protection (not Masakari's API; docs/api.md "Extensions", docs/protection.md):
//   POST /v1/x-masakari/heartbeats                       a compute agent's heartbeat (204)
//   GET  /v1/x-masakari/heartbeats                       the latest heartbeat of every host
//   GET  /v1/x-masakari/protection[?segment=NAME|UUID]   the protection report
//   POST /v1/x-masakari/fencing-readiness/check[?host=]  check the fencers now (status queries only)
// Under /v1/x-masakari/ no Masakari client ever asks, and no Masakari resource can collide. Admin-only by default.

import type { Hono } from 'hono';
import { notFound } from '../../../domain/errors.ts';
import { parseHeartbeatBody } from '../../../protection/heartbeat-schema.ts';
import type { FencingReadiness, ReadinessResult } from '../../../protection/readiness.ts';
import type { ProtectionService } from '../../../protection/service.ts';
import type { ApiEnv } from '../../context.ts';
import { lastParam } from '../../validation/params.ts';
import { authorize, bodyOf, noContent, queryOf, reply, type ResourceDeps } from '../common.ts';

export interface ProtectionApiDeps {
  service: ProtectionService;
  readiness?: FencingReadiness;
}

export const PROTECTION_RULES = {
  heartbeatCreate: 'masakari_ext:heartbeats:create',
  heartbeatIndex: 'masakari_ext:heartbeats:index',
  protectionGet: 'masakari_ext:protection:get',
  readinessCheck: 'masakari_ext:fencing_readiness:check',
} as const;

export function protectionRoutes(app: Hono<ApiEnv>, d: ResourceDeps, p: ProtectionApiDeps): void {
  app.post('/x-masakari/heartbeats', async (c) => {
    const body = bodyOf(c);
    d.policy.enforce(PROTECTION_RULES.heartbeatCreate, c.get('caller'));
    await p.service.acceptHeartbeat(parseHeartbeatBody(body));
    return noContent(c);
  });

  app.get('/x-masakari/heartbeats', async (c) => {
    authorize(c, d, PROTECTION_RULES.heartbeatIndex);
    const list = await p.service.listHeartbeats();
    return reply(c, 200, { heartbeats: list.map((h) => ({ host: h.host, received_at: h.receivedAt.toISOString(), heartbeat: h.heartbeat })) });
  });

  app.get('/x-masakari/protection', async (c) => {
    authorize(c, d, PROTECTION_RULES.protectionGet);
    const segment = lastParam(queryOf(c), 'segment');
    return reply(c, 200, await p.service.report(segment === undefined || segment === '' ? undefined : segment));
  });

  app.post('/x-masakari/fencing-readiness/check', async (c) => {
    authorize(c, d, PROTECTION_RULES.readinessCheck);
    const host = lastParam(queryOf(c), 'host');
    const readiness = p.readiness;
    if (host !== undefined && !readiness?.has(host)) throw notFound(`No fencer configured for host ${host} (fencing.hosts).`);
    const results = readiness ? await readiness.check(host) : new Map<string, ReadinessResult>();
    return reply(c, 200, {
      results: [...results.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([h, r]) => ({ host: h, state: r.state, checked_at: r.checkedAt.toISOString(), detail: r.detail })),
    });
  });
}
