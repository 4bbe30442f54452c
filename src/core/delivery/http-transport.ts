// POST {endpoint}/notifications the way masakari-monitors do: JSON body, X-Auth-Token, and no microversion header
// (so any masakari-api, ours or OpenStack's, treats it as API 1.0).

import type { NotificationDraft } from '../ports/notify.ts';
import type { TokenProvider } from './auth.ts';
import { faultMessage, notificationBody, outcomeOfStatus, type SendOutcome, type Transport } from './transport.ts';

export interface HttpTransportOptions {
  /** The API root ending in /v1, e.g. http://127.0.0.1:15868/v1; null: take it from the Keystone catalog. */
  endpoint: string | null;
  auth: TokenProvider;
  timeoutMs: number;
  userAgent?: string;
}

export class HttpTransport implements Transport {
  readonly name = 'http';
  private endpoint: string | null;

  constructor(private readonly opts: HttpTransportOptions) {
    this.endpoint = opts.endpoint?.replace(/\/+$/, '') ?? null;
  }

  async send(draft: NotificationDraft, signal?: AbortSignal): Promise<SendOutcome> {
    try {
      const endpoint = await this.resolveEndpoint(signal);
      const token = await this.opts.auth.token(signal);
      const timeout = AbortSignal.timeout(this.opts.timeoutMs);
      const res = await fetch(`${endpoint}/notifications`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-Auth-Token': token,
          'User-Agent': this.opts.userAgent ?? 'masakari-compute',
        },
        body: JSON.stringify(notificationBody(draft)),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const text = await res.text();
      if (res.status === 401) this.opts.auth.invalidate();
      return outcomeOfStatus(res.status, faultMessage(text));
    } catch (e) {
      if (signal?.aborted) throw e;
      return { kind: 'retry', message: describeFetchError(e) };
    }
  }

  private async resolveEndpoint(signal?: AbortSignal): Promise<string> {
    if (this.endpoint) return this.endpoint;
    const found = await this.opts.auth.endpointFromCatalog?.(signal);
    if (!found) throw new Error('no controller endpoint configured and none of type instance-ha in the Keystone catalog');
    this.endpoint = found.replace(/\/+$/, '');
    return this.endpoint;
  }
}

/** fetch hides the useful part (ECONNREFUSED, timeout) in `cause`. */
function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}
