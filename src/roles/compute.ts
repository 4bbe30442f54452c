// Wiring only: builds the compute role from core and drivers. No logic lives here.
// Outbox (durable) + transport (HTTP to the controller, or in-process for --role=all) + the monitors the
// configuration enables. Stop order: monitors first (no new drafts), then delivery (flush what is in flight).

import { hostname as osHostname } from 'node:os';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import { realEnv, type Env } from '../core/env.ts';
import { Outbox } from '../core/delivery/outbox.ts';
import type { NotificationTransport } from '../core/ports/notification-transport.ts';
import type { NotificationSink } from '../core/ports/notify.ts';
import type { Monitor } from '../core/monitors/types.ts';
import { ProcessMonitor } from '../core/monitors/process/process-monitor.ts';
import { HostMonitor } from '../core/monitors/host/host-monitor.ts';
import { PacemakerDriver } from '../drivers/cluster/pacemaker/pacemaker-driver.ts';
import { FixedToken, KeystonePasswordAuth, type ControllerAuth } from '../drivers/delivery/auth.ts';
import { HttpTransport } from '../drivers/delivery/http-transport.ts';
import { HeartbeatSender } from '../core/protection/agent-heartbeat.ts';
import { VERSION } from '../version.ts';
import type { Running } from './types.ts';
import { stopSequence } from './stop-steps.ts';
import { EventBus } from '../core/observe/bus.ts';
import type { MetricsRegistry } from '../core/observe/metrics.ts';
import { computeMetrics, type ComputeMetrics } from '../core/observe/metric-set.ts';
import { startRoleMetrics, type RoleMetrics } from './metrics.ts';

export interface ComputeRoleOptions {
  /** --role=all passes a LocalTransport to the controller in the same process. */
  transport?: NotificationTransport;
  env?: Env;
  /** Monitors built elsewhere (e.g. instance, introspective) that share this role's outbox. */
  extraMonitors?: (sink: NotificationSink) => Monitor[];
  /** The process's event bus; --role=all shares the controller's. */
  bus?: EventBus;
  /** A registry another role part owns (--role=all); without it the agent starts its own metrics listener. */
  metrics?: MetricsRegistry;
}

export interface RunningCompute extends Running {
  /** The process's event bus (docs/observability.md): the metrics consumer subscribes here. */
  bus: EventBus;
  outbox: Outbox;
  monitors: Monitor[];
  /** The metrics listener's port (null: metrics off, or served by the caller's registry under --role=all). */
  metricsPort: number | null;
  heartbeat: HeartbeatSender;
}

export const outboxPath = (config: Config): string =>
  isAbsolute(config.compute.delivery.outbox_path) ? config.compute.delivery.outbox_path : join(config.data_dir, config.compute.delivery.outbox_path);

/** `log`: where token issuance and renewal failures go (a long-running agent renews its token many times). */
export function controllerAuth(config: Config, log?: Logger): ControllerAuth {
  const a = config.compute.controller.auth;
  if (a.type === 'none') return new FixedToken(a.token);
  return new KeystonePasswordAuth({
    authUrl: a.auth_url,
    username: a.username,
    password: a.password,
    projectName: a.project_name,
    userDomainName: a.user_domain_name,
    projectDomainName: a.project_domain_name,
    regionName: a.region_name,
    interface: a.interface,
    timeoutMs: config.compute.controller.timeout_seconds * 1000,
    ...(log ? { logger: log } : {}),
  });
}

export function httpTransport(config: Config, log?: Logger): HttpTransport {
  return new HttpTransport({
    endpoint: config.compute.controller.endpoint,
    auth: controllerAuth(config, log),
    timeoutMs: config.compute.controller.timeout_seconds * 1000,
    userAgent: `masakari-compute/${VERSION}`,
  });
}

async function buildMonitors(config: Config, sink: NotificationSink, env: Env, log: Logger, metrics: ComputeMetrics): Promise<Monitor[]> {
  const c = config.compute;
  const hostname = c.hostname ?? osHostname();
  const monitors: Monitor[] = [];
  if (c.process_monitor.enabled) {
    const p = c.process_monitor;
    monitors.push(
      new ProcessMonitor({
        processListPath: p.process_list_path,
        checkIntervalMs: p.check_interval * 1000,
        restartRetries: p.restart_retries,
        restartIntervalMs: p.restart_interval * 1000,
        commandTimeoutMs: p.command_timeout * 1000,
        hostname,
        sink,
        env,
        log,
        metrics,
      }),
    );
  }
  if (c.host_monitor.enabled) {
    const h = c.host_monitor;
    monitors.push(
      new HostMonitor({
        driver: new PacemakerDriver({ command: h.pacemaker.crm_mon_command, timeoutMs: h.pacemaker.timeout_seconds * 1000 }),
        intervalMs: h.monitoring_interval * 1000,
        samples: h.monitoring_samples,
        restrictToRemotes: h.restrict_to_remotes,
        offlineWithoutFencing: h.offline_without_fencing,
        localNode: h.local_node_name ?? hostname,
        statePath: h.state_path === null ? null : isAbsolute(h.state_path) ? h.state_path : join(config.data_dir, h.state_path),
        sink,
        env,
        log,
        metrics,
      }),
    );
  }
  // The libvirt monitors load the FFI bindings only when enabled, so a host without libvirt runs the others.
  const lv = config.libvirt;
  const libvirtOpts = {
    uri: lv.connection_uri,
    keepalive: { intervalSec: lv.keepalive_interval, count: lv.keepalive_count },
    reconnectDelayMs: lv.reconnect_interval * 1000,
  };
  if (lv.instance_monitor.enabled) {
    const { LibvirtDomainEventSource } = await import('../drivers/libvirt/event-source.ts');
    const { InstanceMonitor } = await import('../core/monitors/instance/instance-monitor.ts');
    const mlog = log.child({ component: 'instance-monitor' });
    monitors.push(new InstanceMonitor({ source: new LibvirtDomainEventSource({ ...libvirtOpts, log: mlog }), sink, log: mlog, hostname, env, metrics }));
  }
  if (lv.introspective_monitor.enabled) {
    const { LibvirtGuestAgentSource } = await import('../drivers/libvirt/guest-agent-source.ts');
    const { IntrospectiveMonitor } = await import('../core/monitors/introspective/introspective-monitor.ts');
    const mlog = log.child({ component: 'introspective-monitor' });
    monitors.push(
      new IntrospectiveMonitor({
        source: new LibvirtGuestAgentSource({ ...libvirtOpts, log: mlog }),
        sink,
        log: mlog,
        intervalSec: lv.introspective_monitor.interval,
        timeoutSec: lv.introspective_monitor.timeout,
        failureThreshold: lv.introspective_monitor.failure_threshold,
        hostname,
        env,
        metrics,
      }),
    );
  }
  return monitors;
}

export async function startCompute(config: Config, log: Logger, opts: ComputeRoleOptions = {}): Promise<RunningCompute> {
  const env = opts.env ?? realEnv;
  // One bus per process (the compute side publishes nothing yet; metrics subscribe to it).
  const bus = opts.bus ?? new EventBus(log.child({ component: 'event-bus' }));
  const path = outboxPath(config);
  mkdirSync(dirname(path), { recursive: true });
  const transport = opts.transport ?? httpTransport(config, log.child({ component: 'delivery-auth' }));
  const own: RoleMetrics | null = opts.metrics ? null : await startRoleMetrics(config, log);
  const registry = opts.metrics ?? own!.registry;
  const metrics = computeMetrics(registry);
  const outbox = new Outbox({
    path,
    transport,
    env,
    log,
    backoff: {
      initialMs: config.compute.delivery.retry_initial_seconds * 1000,
      maxMs: config.compute.delivery.retry_max_seconds * 1000,
    },
    keepSent: config.compute.delivery.keep_sent,
    metrics,
  });
  outbox.start();
  const started: Monitor[] = [];
  let monitors: Monitor[] = [];
  try {
    monitors = [...(await buildMonitors(config, outbox, env, log, metrics)), ...(opts.extraMonitors?.(outbox) ?? [])];
    for (const m of monitors) {
      await m.start();
      started.push(m);
    }
  } catch (e) {
    for (const m of started.reverse()) await m.stop().catch(() => undefined);
    await outbox.stop();
    await own?.stop();
    throw e;
  }
  // State read at scrape time: the outbox backlog, the libvirt connections, the host monitor's last sample.
  registry.onCollect(() => {
    outbox.reportBacklog();
    for (const m of monitors) m.reportMetrics?.();
  });
  log.info(
    {
      outbox: path,
      transport: transport.name,
      endpoint: opts.transport ? undefined : config.compute.controller.endpoint,
      monitors: monitors.map((m) => m.name),
    },
    'compute role running',
  );
  if (monitors.length === 0) {
    log.warn(
      'no monitor is enabled (compute.process_monitor.enabled, compute.host_monitor.enabled, libvirt.instance_monitor.enabled, libvirt.introspective_monitor.enabled)',
    );
  }

  // The controller judges this host's protection from these (docs/protection.md).
  const heartbeat = new HeartbeatSender({
    host: config.compute.hostname ?? osHostname(),
    version: VERSION,
    intervalMs: config.compute.heartbeat_interval * 1000,
    transport,
    monitors: () => monitors,
    outbox,
    env,
    log,
  });
  heartbeat.start();

  const stops = stopSequence(
    [
      { name: 'heartbeat', stop: () => heartbeat.stop() },
      ...[...monitors].reverse().map((m) => ({ name: `${m.name} monitor`, stop: () => m.stop() })),
      { name: 'outbox', stop: () => outbox.stop(outboxGraceMs(config)) },
      ...(own && own.port !== null ? [{ name: 'metrics listener', stop: () => own.stop() }] : []),
    ],
    log,
  );
  let stopped: Promise<void> | null = null;
  return {
    bus,
    outbox,
    monitors,
    metricsPort: own?.port ?? null,
    heartbeat,
    stop: () => (stopped ??= stops.stop().finally(() => log.info('compute role stopped'))),
    pending: () => stops.pending(),
  };
}

/**
 * How long the outbox's stop lets a delivery in flight finish before aborting it (the entry stays pending): 5 s,
 * or less when shutdown_timeout is short, so that a frozen controller never holds the stop to the bound.
 */
export const outboxGraceMs = (config: Config): number => Math.min(5000, (config.shutdown_timeout * 1000) / 2);

export async function start(config: Config, log: Logger): Promise<Running> {
  return startCompute(config, log);
}
