// A small world for engine unit tests: the real engine and SQLite store (:memory:) on a virtual clock, with the
// simulated cloud and fencer. Nothing here is mocked; only time is virtual.

import { parseConfig } from '../../src/core/config/load.ts';
import type { Config } from '../../src/core/config/schema.ts';
import type { Host, Notification, RecoveryMethod, Segment } from '../../src/core/domain/model.ts';
import { createEngine, fencerGate, type Engine, type EngineDeps } from '../../src/core/engine/index.ts';
import { VirtualEnv } from '../../src/core/env-virtual.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Store } from '../../src/core/store/types.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { SimCloud, SimComputeDriver } from '../../src/drivers/compute/sim/index.ts';
import { SimFencer } from '../../src/drivers/fence/sim/index.ts';

export interface World {
  env: VirtualEnv;
  store: Store;
  cloud: SimCloud;
  driver: SimComputeDriver;
  fencer: SimFencer;
  config: Config;
  events: string[];
  segment: Segment;
  hosts: Record<string, Host>;
  engine(owner?: string, extra?: Partial<EngineDeps>): Engine;
  notify(type: Notification['type'], host: string, payload: Record<string, string>, agoS?: number): Promise<Notification>;
  /** Runs the virtual clock until `p` settles (at most `maxS` virtual seconds). */
  drive<T>(p: Promise<T>, maxS?: number): Promise<T>;
  close(): Promise<void>;
}

export async function world(
  opts: {
    config?: Record<string, unknown>;
    method?: RecoveryMethod;
    hosts?: string[];
    reserved?: string[];
    segmentEnabled?: boolean;
    /** The sim driver offers the batched observeServers (as Nova's does): evacuations are confirmed in batches. */
    batchObserve?: boolean;
  } = {},
): Promise<World> {
  const env = new VirtualEnv();
  const store = openSqliteStore({ path: ':memory:', uuid: () => env.uuid(), now: () => env.now() });
  const events: string[] = [];
  const cloud = new SimCloud(env, { apiMs: 10, evacuateCallMs: 100, rebuildMinMs: 5_000, rebuildMaxMs: 5_000, stopMs: 1_000, startMs: 1_000 }, (l) =>
    events.push(l),
  );
  const driver = new SimComputeDriver(cloud, { batchObserve: opts.batchObserve ?? false });
  const fencer = new SimFencer(cloud, 100);
  const config = parseConfig(opts.config ?? {}, 'test');
  const segment = await store.createSegment(
    { name: 'seg', description: null, recoveryMethod: opts.method ?? 'auto', serviceType: 'COMPUTE', enabled: opts.segmentEnabled ?? true },
    env.now(),
  );
  const hosts: Record<string, Host> = {};
  for (const name of opts.hosts ?? ['h1', 'h2']) {
    hosts[name] = await store.createHost(segment.uuid, { name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, env.now());
    cloud.addHost(name);
  }
  for (const name of opts.reserved ?? []) {
    hosts[name] = await store.createHost(segment.uuid, { name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: true, onMaintenance: false }, env.now());
    cloud.addHost(name, { serviceEnabled: false });
  }
  const w: World = {
    env,
    store,
    cloud,
    driver,
    fencer,
    config,
    events,
    segment,
    hosts,
    engine: (owner = 'c1', extra = {}) =>
      createEngine({ store, compute: driver, fence: fencerGate(fencer), config, env, log: silentLogger, ownerId: owner, periodic: false, ...extra }),
    async notify(type, host, payload, agoS = 0) {
      const r = await store.createNotification(
        { uuid: env.uuid(), type, generatedTime: new Date(env.nowMs() - agoS * 1000), sourceHostUuid: hosts[host]!.uuid, payload },
        0,
        env.now(),
      );
      if (!r.created) throw new Error('duplicate');
      return r.notification;
    },
    async drive(p, maxS = 3600) {
      let settled = false;
      const tracked = p.finally(() => (settled = true));
      const end = env.nowMs() + maxS * 1000;
      while (!settled && env.nowMs() < end) await env.run(Math.min(end, env.nowMs() + 1000));
      if (!settled) throw new Error(`not settled within ${maxS} virtual seconds`);
      return tracked;
    },
    close: () => store.close(),
  };
  return w;
}

export const HOST_DOWN = { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' };
