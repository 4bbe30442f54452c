// Wiring only: --role=all = the controller role (store, API, engine) + the compute role (monitors, outbox) in one
// process, recovering VMs on libvirt hosts. The lab defaults (docs/lab.md):
//   - compute driver: libvirt (this machine at libvirt.connection_uri, or libvirt_compute.hosts), unless
//     controller.compute_driver is nova;
//   - the store is migrated at start (database.auto_migrate forced on);
//   - the libvirt instance monitor is always on;
//   - notifications go from the outbox to the API in-process (app.request: same validation, dedupe and durable
//     store write as over HTTP, no socket and no network failure in between);
//   - at first start (no segment in the store), segment "masakari-lab" with every libvirt host is created;
//   - instance_restart_limit_task runs first in the instance flow (a crash-looping VM is not restarted forever).
// Stop order: the protected-domain reporter and the monitors and outbox first (nothing new comes in), then API and
// engine, then the libvirt driver (its close is awaited: libvirt lets go before the process ends, src/core/exit.ts).

import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import { LocalTransport } from '../core/delivery/local-transport.ts';
import { notificationBody, faultMessage } from '../core/ports/notification-transport.ts';
import { MasakariError, type FaultKey } from '../core/domain/errors.ts';
import type { EngineObserver } from '../core/engine/index.ts';
import type { ApiApp } from '../core/api/app.ts';
import type { NotificationDraft } from '../core/ports/notify.ts';
import type { AgentHeartbeat } from '../core/ports/heartbeat.ts';
// The libvirt driver loads koffi (a native addon): imported only when this role starts, so --help and the other
// commands never need the addon unpacked.
import type { LibvirtComputeDriver } from '../drivers/compute/libvirt/index.ts';
import type { ControllerAuth } from '../drivers/delivery/auth.ts';
import * as controller from './controller.ts';
import { controllerAuth, startCompute, type RunningCompute } from './compute.ts';
import type { RunningController } from './controller.ts';
import type { Running } from './types.ts';
import { stopSequence } from './stop-steps.ts';
import { EventBus } from '../core/observe/bus.ts';
import { startRoleMetrics } from './metrics.ts';

export interface RunningAll extends Running {
  controller: RunningController;
  compute: RunningCompute;
  driver: LibvirtComputeDriver | null;
  /** The one metrics listener of both parts (null: metrics off or not bound). */
  metricsPort: number | null;
}

/** The configuration the all role runs with: the lab defaults above on top of what the operator gave. */
export function allRoleConfig(config: Config): Config {
  const flows = config.taskflow_driver_recovery_flows;
  const inst = flows.instance_failure_recovery_tasks;
  const all = [...inst.pre, ...inst.main, ...inst.post];
  // A crash-looping VM is restarted at most instance_restart_limit.max_restarts times per window.
  const withLimit = all.includes('instance_restart_limit_task') ? inst.pre : ['instance_restart_limit_task', ...inst.pre];
  return {
    ...config,
    controller: { ...config.controller, compute_driver: config.controller.compute_driver === 'nova' ? 'nova' : 'libvirt' },
    database: { ...config.database, auto_migrate: true },
    libvirt: { ...config.libvirt, instance_monitor: { ...config.libvirt.instance_monitor, enabled: true } },
    taskflow_driver_recovery_flows: { ...flows, instance_failure_recovery_tasks: { ...inst, pre: withLimit } },
  };
}

/** Hands a monitor's draft to the API app in-process; throws what the API answered as a MasakariError. */
function inProcessIntake(app: ApiApp, auth: ControllerAuth) {
  return async (draft: NotificationDraft): Promise<void> => {
    const token = await auth.getToken();
    const res = await app.request('/v1/notifications', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token.id },
      body: JSON.stringify(notificationBody(draft)),
    });
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 401) auth.invalidate(token.id);
    const key: FaultKey = res.status === 409 ? 'conflictingRequest' : 'badRequest';
    throw new MasakariError(res.status, key, faultMessage(await res.text()));
  };
}

/** Hands the agent's heartbeat to the API app in-process, like inProcessIntake. */
function inProcessHeartbeat(app: ApiApp, auth: ControllerAuth) {
  return async (hb: AgentHeartbeat): Promise<void> => {
    const token = await auth.getToken();
    const res = await app.request('/v1/x-masakari/heartbeats', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token.id },
      body: JSON.stringify({ heartbeat: hb }),
    });
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 401) auth.invalidate(token.id);
    throw new MasakariError(res.status, res.status === 409 ? 'conflictingRequest' : 'badRequest', faultMessage(await res.text()));
  };
}

/** Prints each recovery as it happens (the lab's console). */
function recoveryReporter(log: Logger): EngineObserver {
  const rlog = log.child({ component: 'recovery' });
  return {
    status: (uuid, status, reason) =>
      rlog.info({ notification: uuid, status, ...(reason ? { reason } : {}) }, `notification ${uuid}: ${status}${reason ? ` (${reason})` : ''}`),
    task: (uuid, task, state) => rlog.info({ notification: uuid, task, state }, `notification ${uuid}: ${task} ${state}`),
  };
}

export async function start(operatorConfig: Config, log: Logger): Promise<RunningAll> {
  const config = allRoleConfig(operatorConfig);
  const libvirt = config.controller.compute_driver === 'libvirt' ? await import('../drivers/compute/libvirt/index.ts') : null;
  const lab = libvirt ? await import('../drivers/compute/libvirt/lab.ts') : null;
  const driver = libvirt ? libvirt.createLibvirtComputeDriver(config, log) : null;
  let ctl: RunningController | undefined;
  let protection: { stop(): Promise<void> } | undefined;
  // One bus for the process: the controller and compute sides publish and subscribe on the same one.
  const bus = new EventBus(log.child({ component: 'event-bus' }));
  // One listener for both parts: the controller's and the agent's metrics in one scrape.
  const metrics = await startRoleMetrics(config, log);
  try {
    ctl = await controller.start(config, log, {
      ...(driver ? { compute: driver } : {}),
      observer: recoveryReporter(log),
      bus,
      metrics: metrics.registry,
    });
    if (driver) {
      await lab!.bootstrapLabSegment(ctl.store, driver.hostNames, log);
      driver.start();
      protection = await lab!.reportProtected(driver, config.instance_failure.ha_enabled_instance_metadata_key, log);
    }
    const auth = controllerAuth(config);
    const compute = await startCompute(config, log, {
      transport: new LocalTransport(inProcessIntake(ctl.app, auth), inProcessHeartbeat(ctl.app, auth)),
      bus,
      metrics: metrics.registry,
    });
    const running = ctl;
    log.info(
      { api: `http://${config.api.listen.replace(/:\d+$/, '')}:${running.port}/v1`, compute: driver ? 'libvirt' : config.controller.compute_driver },
      'all-in-one role running',
    );
    const stops = stopSequence(
      [
        ...(protection ? [{ name: 'protected-domain reporter', stop: () => protection!.stop() }] : []),
        { name: 'monitors and outbox', stop: () => compute.stop(), pending: () => compute.pending?.() ?? [] },
        { name: 'API and engine', stop: () => running.stop(), pending: () => running.pending?.() ?? [] },
        // Last, and awaited: libvirt has let go of every connection and its event-loop thread has returned.
        ...(driver ? [{ name: 'libvirt compute driver', stop: () => driver.close() }] : []),
        ...(metrics.port !== null ? [{ name: 'metrics listener', stop: () => metrics.stop() }] : []),
      ],
      log,
    );
    return {
      controller: running,
      compute,
      driver,
      metricsPort: metrics.port,
      stop: () => stops.stop(),
      pending: () => stops.pending(),
    };
  } catch (e) {
    await protection?.stop();
    await ctl?.stop().catch(() => undefined);
    await driver?.close().catch(() => undefined);
    await metrics.stop();
    throw e;
  }
}
