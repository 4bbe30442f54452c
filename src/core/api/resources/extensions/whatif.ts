// GET /v1/x-masakari/whatif?lose=HOST: the what-if plan for the loss of one host (src/core/protection/whatif/).
// An extension of ours, not Masakari's API: admin-only by default (policy masakari_ext:whatif:get).

import type { Hono } from 'hono';
import { badRequest, MasakariError } from '../../../domain/errors.ts';
import { ComputeDriverError } from '../../../ports/compute.ts';
import { planHostLoss, type WhatIfDeps } from '../../../protection/whatif/index.ts';
import type { ApiEnv } from '../../context.ts';
import { authorize, queryOf, reply, type ResourceDeps } from '../common.ts';

export const WHATIF_RULE = 'masakari_ext:whatif:get';

export function whatifRoutes(app: Hono<ApiEnv>, d: ResourceDeps, whatif: WhatIfDeps | undefined): void {
  app.get('/x-masakari/whatif', async (c) => {
    authorize(c, d, WHATIF_RULE);
    const lose = queryOf(c).lose;
    if (!lose || lose.length === 0 || lose.some((v) => v.trim() === '')) throw badRequest("Query parameter 'lose' (the name of a host) is required.");
    if (lose.length > 1) throw badRequest("Query parameter 'lose' names one host; it was given more than once.");
    if (!whatif) throw badRequest('The what-if planner needs a compute driver (controller.compute_driver is none).');
    try {
      return reply(c, 200, await planHostLoss(whatif, lose[0]!));
    } catch (e) {
      // The backend could not be asked (Nova or a libvirt host down): 503, as for Masakari's own host validation.
      if (e instanceof ComputeDriverError) throw new MasakariError(503, 'serviceUnavailable', `The compute service could not be asked: ${e.message}`);
      throw e;
    }
  });
}
