// POST {endpoint}/notifications the way masakari-monitors do: JSON body, X-Auth-Token, and no microversion header
// (so any masakari-api, ours or OpenStack's, treats it as API 1.0). Through the shared client: auth -> timeout ->
// fetch. No retry interceptor and no replay of a 401: the outbox retries every failed send with its own backoff,
// and it is the one that logs each outcome.

import { errorMessage } from '../../core/errors.ts';
import type { AgentHeartbeat } from '../../core/ports/heartbeat.ts';
import type { NotificationDraft } from '../../core/ports/notify.ts';
import { faultMessage, notificationBody, outcomeOfStatus, type NotificationTransport, type SendOutcome } from '../../core/ports/notification-transport.ts';
import { timeoutInterceptor } from '../http/interceptors/timeout.ts';
import { OpenStackError } from '../openstack/errors.ts';
import { compose, fetchHandler, type Handler, type OsRequest } from '../openstack/http.ts';
import { authInterceptor } from '../openstack/interceptors/auth.ts';
import type { ControllerAuth } from './auth.ts';

export interface HttpTransportOptions {
  /** The API root ending in /v1, e.g. http://127.0.0.1:15868/v1; null: take it from the Keystone catalog. */
  endpoint: string | null;
  auth: ControllerAuth;
  timeoutMs: number;
  userAgent?: string;
  /** The dispatcher at the bottom; default: Node's fetch. */
  dispatcher?: Handler;
}

export class HttpTransport implements NotificationTransport {
  readonly name = 'http';
  private endpoint: string | null;
  private readonly http: Handler;

  constructor(private readonly opts: HttpTransportOptions) {
    this.endpoint = opts.endpoint?.replace(/\/+$/, '') ?? null;
    // A 401 drops the token (the next attempt gets a fresh one) and is a 'retry' outcome.
    this.http = compose<OsRequest>(
      opts.dispatcher ?? fetchHandler,
      authInterceptor(opts.auth, { replayOnUnauthorized: false }),
      timeoutInterceptor(opts.timeoutMs),
    );
  }

  async send(draft: NotificationDraft, signal?: AbortSignal): Promise<SendOutcome> {
    try {
      const endpoint = await this.resolveEndpoint(signal);
      const res = await this.http({
        method: 'POST',
        url: `${endpoint}/notifications`,
        headers: { 'User-Agent': this.opts.userAgent ?? 'masakari-compute' },
        body: notificationBody(draft),
        ...(signal ? { signal } : {}),
      });
      return outcomeOfStatus(res.status, faultMessage(res.text ?? ''));
    } catch (e) {
      if (signal?.aborted) throw e;
      return { kind: 'retry', message: errorMessage(e) };
    }
  }

  /** POST {endpoint}/x-masakari/heartbeats (our extension; a Masakari controller answers 404: logged by the sender). */
  async heartbeat(hb: AgentHeartbeat, signal?: AbortSignal): Promise<SendOutcome> {
    try {
      const endpoint = await this.resolveEndpoint(signal);
      const res = await this.http({
        method: 'POST',
        url: `${endpoint}/x-masakari/heartbeats`,
        headers: { 'User-Agent': this.opts.userAgent ?? 'masakari-compute' },
        body: { heartbeat: hb },
        ...(signal ? { signal } : {}),
      });
      return outcomeOfStatus(res.status, faultMessage(res.text ?? ''));
    } catch (e) {
      if (signal?.aborted) throw e;
      return { kind: 'retry', message: errorMessage(e) };
    }
  }

  private async resolveEndpoint(signal?: AbortSignal): Promise<string> {
    if (this.endpoint) return this.endpoint;
    if (!this.opts.auth.endpointFromCatalog) {
      throw new OpenStackError('catalog', 'no controller endpoint configured (compute.controller.endpoint) and no Keystone catalog to look one up in');
    }
    this.endpoint = (await this.opts.auth.endpointFromCatalog(signal)).replace(/\/+$/, '');
    return this.endpoint;
  }
}
