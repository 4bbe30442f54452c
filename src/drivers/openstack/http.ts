// The shared HTTP client (../http/http.ts) as OpenStack drivers use it: a request may name a catalog service
// instead of an absolute URL, and may opt out of the service token. The endpoint, auth and microversion
// interceptors read these fields; retry, timeout and logging are the shared ones.

import {
  compose,
  fetchHandler,
  type Handler as HttpHandler,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type Interceptor as HttpInterceptor,
} from '../http/http.ts';
import { faultMessage, OpenStackError } from './errors.ts';

export { compose, fetchHandler, type HttpMethod };

export interface OsRequest extends HttpRequest {
  /** Catalog service type (e.g. "compute"): the endpoint interceptor turns a relative `url` into an absolute URL. */
  service?: string;
  /** Set by the endpoint interceptor: the service's endpoint the URL was resolved against. */
  endpoint?: string;
  /** False for requests that must not carry a token (Keystone's own /auth/tokens). */
  auth?: boolean;
  /**
   * Send at most this microversion for this one request (never below the negotiated minimum): for a call whose
   * response grows costly on the service's side at newer versions.
   */
  maxMicroversion?: string;
}

export type OsResponse = HttpResponse;
export type Handler = HttpHandler<OsRequest>;
export type Interceptor = HttpInterceptor<OsRequest>;

/** Throws OpenStackError('http') unless the status is one of `ok`; the message carries the service's own words. */
export function expectStatus(res: OsResponse, req: Pick<OsRequest, 'method' | 'url'>, ...ok: number[]): OsResponse {
  if (ok.includes(res.status)) return res;
  const m = faultMessage(res.body);
  throw new OpenStackError('http', `${req.method} ${req.url}: HTTP ${res.status}${m ? `: ${m}` : ''}`, {
    status: res.status,
    requestId: res.requestId,
  });
}
