import type { CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { PacemakerDriver } from '../drivers/cluster/pacemaker/pacemaker-driver.ts';
import { decide, initialHostMonitorState, previewSnapshot, type DecideOptions, type DecideResult } from '../core/monitors/host/decide.ts';
import { OutboxStore } from '../core/delivery/outbox-store.ts';
import { statusOf } from '../core/delivery/outbox.ts';
import { outboxPath } from '../roles/compute.ts';
import { errorCode, errorMessage } from '../core/errors.ts';

// `masakari monitors host --once [--crm-mon-xml FILE...]`: what the host monitor makes of the cluster (no sending).
// `masakari monitors outbox`: the delivery outbox's pending and rejected notifications.

interface MonitorsArgs extends GlobalArgs {
  monitor: 'host' | 'outbox';
  once?: boolean;
  'crm-mon-xml'?: string[];
  'local-node'?: string;
  'retry-rejected'?: boolean;
}

const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

function stepView(result: DecideResult) {
  return {
    skipped: result.skipped,
    nodes: result.reports.map((r) => ({
      name: r.name,
      type: r.type,
      condition: r.condition,
      stable: r.stable,
      fencing: r.fencing,
      notification: r.notification ? { type: 'COMPUTE_HOST', hostname: r.notification.hostname, payload: r.notification.payload } : null,
      reason: r.reason,
    })),
  };
}

async function hostOnce(args: MonitorsArgs): Promise<number> {
  const config = configFromArgs(args);
  const h = config.compute.host_monitor;
  const opts: DecideOptions = {
    localNode: args['local-node'] ?? h.local_node_name ?? config.compute.hostname ?? osHostname(),
    samples: h.monitoring_samples,
    restrictToRemotes: h.restrict_to_remotes,
    offlineWithoutFencing: h.offline_without_fencing,
  };
  const files = args['crm-mon-xml'] ?? [];
  if (files.length <= 1) {
    const driver = new PacemakerDriver({
      command: h.pacemaker.crm_mon_command,
      xmlFile: files[0] ?? null,
      timeoutMs: h.pacemaker.timeout_seconds * 1000,
    });
    const snap = await driver.snapshot();
    print({
      source: files[0] ?? h.pacemaker.crm_mon_command.join(' '),
      local_node: opts.localNode,
      quorate: snap.quorate,
      maintenance_mode: snap.maintenanceMode,
      fence_history_available: snap.fenceHistory !== null,
      assumption:
        'each peer was last reported in the opposite state and seen up before every fence event in this output; ' +
        'pass several --crm-mon-xml files to replay a sequence instead',
      ...stepView(previewSnapshot(snap, opts)),
    });
    return 0;
  }
  // Several files: replay them in order through the real decision logic, as successive polls.
  let state = initialHostMonitorState();
  const steps = [];
  for (const file of files) {
    const snap = await new PacemakerDriver({ xmlFile: file }).snapshot();
    const result = decide(state, snap, opts);
    state = result.state;
    steps.push({ source: file, quorate: snap.quorate, ...stepView(result) });
  }
  print({ local_node: opts.localNode, samples: opts.samples, steps });
  return 0;
}

function outboxStatus(args: MonitorsArgs): number {
  const config = configFromArgs(args);
  const path = outboxPath(config);
  if (!existsSync(path)) {
    process.stderr.write(`masakari: no outbox at ${path} (compute.delivery.outbox_path, data_dir)\n`);
    return 1;
  }
  if (args['retry-rejected']) {
    const store = new OutboxStore(path);
    try {
      const n = store.requeueRejected(Date.now());
      process.stderr.write(`masakari: ${n} rejected notification(s) queued again\n`);
    } finally {
      store.close();
    }
  }
  const store = new OutboxStore(path, { readonly: true });
  try {
    print({ path, ...statusOf(store) });
  } finally {
    store.close();
  }
  return 0;
}

export const monitorsCommand: CommandModule<object, MonitorsArgs> = {
  command: 'monitors <monitor>',
  describe: 'query a monitor: `host --once` prints what the host monitor makes of the cluster; `outbox` lists undelivered notifications',
  builder: (y) =>
    y
      .positional('monitor', { choices: ['host', 'outbox'] as const, demandOption: true })
      .option('once', { type: 'boolean', describe: 'host: look at the cluster once, print each node and the notification it would get, send nothing' })
      .option('crm-mon-xml', {
        type: 'string',
        array: true,
        describe: 'host: read crm_mon XML from FILE instead of running crm_mon (several files: replayed as successive polls)',
      })
      .option('retry-rejected', { type: 'boolean', describe: 'outbox: queue the rejected notifications again (after fixing the cause)' })
      .option('local-node', { type: 'string', describe: "host: this node's cluster name (default: compute.host_monitor.local_node_name or the hostname)" }),
  handler: (args) =>
    runCommand(async () => {
      if (args.monitor === 'outbox') return outboxStatus(args);
      if (!args.once) {
        process.stderr.write('masakari: `monitors host` only supports --once here; the host monitor runs inside --role=compute\n');
        return 2;
      }
      try {
        return await hostOnce(args);
      } catch (e) {
        if (errorCode(e) === 'CRM_MON_UNREADABLE') {
          process.stderr.write(`masakari: ${errorMessage(e)}\n`);
          return 1;
        }
        throw e;
      }
    }),
};
