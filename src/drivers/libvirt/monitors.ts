// Builds the libvirt-based monitors from configuration, for the compute role's wiring (roles stay logic-free).

import os from 'node:os';
import type { Config } from '../../core/config/schema.ts';
import type { Logger } from '../../core/log.ts';
import type { NotificationSink } from '../../core/ports/notify.ts';
import type { Monitor } from '../../core/monitors/types.ts';
import { InstanceMonitor } from '../../core/monitors/instance/instance-monitor.ts';
import { IntrospectiveMonitor } from '../../core/monitors/introspective/introspective-monitor.ts';
import { LibvirtDomainEventSource } from './event-source.ts';
import { LibvirtGuestAgentSource } from './guest-agent-source.ts';

/** The instance and introspective monitors that `config.libvirt` enables (possibly none). */
export function buildLibvirtMonitors(config: Config, sink: NotificationSink, log: Logger): Monitor[] {
  const lv = config.libvirt;
  const hostname = config.compute.hostname ?? os.hostname();
  const common = {
    uri: lv.connection_uri,
    keepalive: { intervalSec: lv.keepalive_interval, count: lv.keepalive_count },
    reconnectDelayMs: lv.reconnect_interval * 1000,
  };
  const monitors: Monitor[] = [];
  if (lv.instance_monitor.enabled) {
    const mlog = log.child({ component: 'instance-monitor' });
    monitors.push(new InstanceMonitor({ source: new LibvirtDomainEventSource({ ...common, log: mlog }), sink, log: mlog, hostname }));
  }
  if (lv.introspective_monitor.enabled) {
    const im = lv.introspective_monitor;
    const mlog = log.child({ component: 'introspective-monitor' });
    monitors.push(
      new IntrospectiveMonitor({
        source: new LibvirtGuestAgentSource({ ...common, log: mlog }),
        sink,
        log: mlog,
        intervalSec: im.interval,
        timeoutSec: im.timeout,
        failureThreshold: im.failure_threshold,
        hostname,
      }),
    );
  }
  return monitors;
}
