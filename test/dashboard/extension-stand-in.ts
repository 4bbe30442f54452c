// Stand-ins for the protection report (GET /v1/x-masakari/protection) and the what-if plan (GET
// /v1/x-masakari/whatif?lose=HOST), shaped like the shared contract, used only by the dashboard tests until the
// real resources are built into the controller. Without a body set, they answer like a controller that does not
// have the resource (404 "The resource could not be found.", the API's answer for an unknown route), whether or not
// this build has the real one: the "not available" pages stay testable after the real resources land.

import type { ApiFetch } from '../../src/core/dashboard/api-client.ts';
import type { ProtectionReport, WhatIf } from '../../src/core/dashboard/wire.ts';

export class StandInExtensions {
  protection: ProtectionReport | null = null;
  whatif = new Map<string, WhatIf>();
  /** Requests they answered (the dashboard must not poll them: only page loads and events fetch). */
  calls = 0;

  wrap = (inner: ApiFetch): ApiFetch => {
    return async (req) => {
      const url = new URL(req.url);
      if (url.pathname === '/v1/x-masakari/protection' && this.protection) {
        this.calls++;
        return Response.json(this.protection);
      }
      const lose = url.searchParams.get('lose');
      if (url.pathname === '/v1/x-masakari/whatif' && lose && this.whatif.has(lose)) {
        this.calls++;
        return Response.json(this.whatif.get(lose));
      }
      if (url.pathname === '/v1/x-masakari/protection' || url.pathname === '/v1/x-masakari/whatif') {
        return Response.json({ itemNotFound: { code: 404, message: 'The resource could not be found.' } }, { status: 404 });
      }
      return inner(req);
    };
  };
}
