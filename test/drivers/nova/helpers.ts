// Test-side helpers for the OpenStack lab: set-up calls the driver does not make (boot servers, create
// aggregates, application credentials) and bounded waits for Nova's asynchronous state changes.

import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenStackClient } from '../../../src/drivers/openstack/client.ts';
import { expectStatus, type OsRequest } from '../../../src/drivers/openstack/http.ts';

/** Polls `get` until `done` holds; throws with the last value after `timeoutMs`. Waiting, never asserting timing. */
export async function waitFor<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await get();
      if (done(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}${lastErr ? `; last error: ${(lastErr as Error).message}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

export async function call(client: OpenStackClient, req: OsRequest, ...ok: number[]): Promise<unknown> {
  const res = await client.request(req);
  return expectStatus(res, req, ...(ok.length ? ok : [200, 201, 202, 204])).body;
}

/** Boots a server on `host` (2.74: host on create) without networks; returns its id. */
export async function bootServer(
  client: OpenStackClient,
  lab: { imageId: string; flavorId: string },
  name: string,
  host: string,
  metadata: Record<string, string> = {},
): Promise<string> {
  const body = (await call(
    client,
    {
      method: 'POST',
      service: 'compute',
      url: '/servers',
      body: { server: { name, imageRef: lab.imageId, flavorRef: lab.flavorId, networks: 'none', host, metadata } },
    },
    202,
  )) as { server: { id: string } };
  return body.server.id;
}

export async function createAggregate(client: OpenStackClient, name: string): Promise<string> {
  const body = (await call(client, { method: 'POST', service: 'compute', url: '/os-aggregates', body: { aggregate: { name } } }, 200)) as {
    aggregate: { id: number };
  };
  return String(body.aggregate.id);
}
