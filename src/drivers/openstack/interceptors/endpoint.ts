// Turns {service: "compute", url: "/servers/detail"} into an absolute URL on the catalog's endpoint for the
// configured interface and region (or a configured override). Looked up per request: a renewed token may carry
// a changed catalog.

import type { EndpointFilter } from '../catalog.ts';
import type { Interceptor } from '../http.ts';

export interface EndpointSource {
  endpoint(serviceType: string, filter: EndpointFilter): Promise<string>;
}

export function endpointInterceptor(source: EndpointSource, filter: EndpointFilter, overrides: Record<string, string> = {}): Interceptor {
  return (next) => async (req) => {
    if (!req.service) return next(req);
    const base = (overrides[req.service] ?? (await source.endpoint(req.service, filter))).replace(/\/+$/, '');
    const url = /^https?:\/\//.test(req.url) ? req.url : `${base}${req.url.startsWith('/') ? '' : '/'}${req.url}`;
    return next({ ...req, url, endpoint: base });
  };
}
