// Host-failure tasks before evacuation: the fencing gate, disabling the failed host's compute service, and choosing
// the instances to evacuate. Messages match Masakari's where Masakari has the step (API 1.1 clients show them).

import type { Store } from '../../store/types.ts';
import { FencingFailed, RecoveryFailure, SkipRecovery } from '../errors.ts';
import type { RecoveryTask, TaskContext } from '../task.ts';
import { selectInstancesForEvacuation } from '../rules.ts';
import { seconds, waitFor } from './util.ts';
import { NO_CONTROLLER_METRICS } from '../../observe/metric-set.ts';
import { secondsSince } from '../../observe/metrics.ts';

/** Runs a phase of the host recovery and records its duration in `histogram` with its result. */
async function timed<T>(ctx: TaskContext, histogram: 'fencingDuration' | 'serviceDisableDuration', body: () => Promise<T>): Promise<T> {
  const startedMs = ctx.env.nowMs();
  let result = 'failure';
  try {
    const out = await body();
    result = 'success';
    return out;
  } finally {
    if (!ctx.signal.aborted) (ctx.metrics ?? NO_CONTROLLER_METRICS)[histogram].observe(secondsSince(startedMs, ctx.env.nowMs()), { result });
  }
}

/** The safety gate: no evacuation without evidence that the failed host is fenced (or an explicit opt-out). */
export const fenceHostTask: RecoveryTask = {
  displayName: 'FenceHostTask',
  inputs: ['host_name'],
  execute: (ctx) => timed(ctx, 'fencingDuration', () => fenceHost(ctx)),
};

async function fenceHost(ctx: TaskContext) {
  const attempts = (ctx.metrics ?? NO_CONTROLLER_METRICS).fenceAttempts;
  const host = ctx.input('host_name');
  if (!ctx.config.host_failure.fencing_required) {
    const msg =
      `WARNING: fencing is disabled by configuration (host_failure.fencing_required=false): ` +
      `instances of host '${host}' are evacuated without evidence that it is powered off`;
    ctx.log.warn({ host, notification: ctx.notification.uuid }, msg);
    await ctx.update(msg, 1.0);
    return { fenced: false, fencing_opt_out: true };
  }
  if (!ctx.fenceGate) {
    const msg = `No fence evidence for host '${host}': no fencer is configured (host_failure.fencing_required is true)`;
    attempts.inc({ result: 'not_configured' });
    await ctx.update(msg, 1.0);
    throw new FencingFailed(msg);
  }
  await ctx.update(`Fencing host: '${host}'`);
  // The evidence must be about this failure: a fencing from before it (an earlier failure of the same host) is not.
  const ev = await ctx.fenceGate.confirmFenced(host, { failedAt: ctx.notification.generatedTime, signal: ctx.signal });
  attempts.inc({ result: ev.fenced ? 'fenced' : ev.source === 'timeout' ? 'timeout' : 'not_fenced' });
  if (!ev.fenced) {
    const msg = `No fence evidence for host '${host}': ${ev.reason}`;
    await ctx.update(msg, 1.0);
    throw new FencingFailed(msg);
  }
  await ctx.update(`Host '${host}' is fenced: ${ev.evidence}`, 1.0);
  return { fenced: true };
}

async function serviceDisabledAndDown(ctx: TaskContext, host: string): Promise<boolean> {
  const svc = await ctx.compute.getComputeService(host);
  return svc.status === 'disabled' && svc.state === 'down';
}

export const disableComputeServiceTask: RecoveryTask = {
  displayName: 'DisableComputeServiceTask',
  inputs: ['host_name'],
  execute: (ctx) => timed(ctx, 'serviceDisableDuration', () => disableComputeService(ctx)),
};

async function disableComputeService(ctx: TaskContext): Promise<void> {
  const host = ctx.input('host_name');
  const cfg = ctx.config.host_failure;
  await ctx.update(`Disabling compute service on host: '${host}'`);
  const svc = await ctx.compute.getComputeService(host);
  // Forcing the service down is only safe once the host is known dead (fenced) or the operator opted out.
  // It comes before disabling: while the dead compute still looks up, Nova's disable blocks on an RPC to it
  // until rpc_response_timeout (measured 32 s in the lab, 60 s by default).
  const mayForceDown = cfg.force_down_compute_service && (ctx.values.fenced === true || !cfg.fencing_required);
  if (mayForceDown && !svc.forcedDown) await ctx.compute.setComputeServiceForcedDown(host, true);
  if (svc.status !== 'disabled') await ctx.compute.disableComputeService(host, cfg.service_disable_reason);
  const waitS = ctx.config.engine.wait_period_after_service_update;
  if (cfg.service_update_wait === 'fixed_sleep') {
    // Masakari's behaviour, kept for comparison runs (bench/): a fixed sleep whatever the state.
    ctx.log.info({ host }, `sleeping ${waitS} s before starting recovery`);
    await ctx.env.sleep(seconds(waitS), ctx.signal);
  } else if (!(await waitFor(ctx, waitS, () => serviceDisabledAndDown(ctx, host)))) {
    throw new RecoveryFailure(`Compute service on host '${host}' is not disabled and down after ${waitS} s`);
  }
  await ctx.update(`Disabled compute service on host: '${host}'`, 1.0);
}

export const prepareHAEnabledInstancesTask: RecoveryTask = {
  displayName: 'PrepareHAEnabledInstancesTask',
  inputs: ['host_name'],
  async execute(ctx) {
    const host = ctx.input('host_name');
    await ctx.update('Preparing instances for evacuation');
    const servers = await ctx.compute.listServersOnHost(host);
    await ctx.update(`Total instances running on failed host '${host}' is ${servers.length}`, 0.3);

    // The rules live in rules.ts, shared with the what-if planner; this task only reports and records.
    const sel = selectInstancesForEvacuation(servers, ctx.config.host_failure);
    for (const { server, reason, haEnabled } of sel.skipped) {
      if (reason === 'error_state' && haEnabled) await ctx.update(`Ignoring recovery of HA_Enabled instance '${server.id}' as it is in 'error' state.`, 0.4);
    }
    await ctx.update(`Total HA Enabled instances count: '${sel.haEnabled.length}'`, 0.6);
    const chosen = sel.chosen;
    if (ctx.config.host_failure.evacuate_all_instances) {
      await ctx.update(`Total Non-HA Enabled instances count: '${sel.notHaEnabled.length}'`, 0.7);
      await ctx.update(`All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '${chosen.length}'`, 0.8);
    }
    if (chosen.length === 0) {
      const msg = `Skipped host '${host}' recovery as no instances needs to be evacuated`;
      await ctx.update(msg, 1.0);
      throw new SkipRecovery(msg);
    }
    // One pending vmove per instance that has none still open (a resumed or repeated run reuses them).
    const existing = await listAllVMoves(ctx.store, ctx.notification.uuid);
    for (const s of chosen) {
      const open = existing.find((v) => v.instanceUuid === s.id && (v.status === 'pending' || v.status === 'ongoing'));
      if (open) continue;
      await ctx.store.createVMove(
        {
          notificationUuid: ctx.notification.uuid,
          instanceUuid: s.id,
          instanceName: s.name,
          sourceHost: host,
          destHost: null,
          type: 'evacuation',
          status: 'pending',
        },
        ctx.env.now(),
      );
    }
    const ids = chosen.map((s) => s.id);
    await ctx.update(`Instances to be evacuated are: '${ids.join(',')}'`, 1.0);
    return { instance_list: ids };
  },
};

/** Every vmove of the notification, oldest first. */
export async function listAllVMoves(store: Store, notificationUuid: string) {
  const out = [];
  let marker: number | undefined;
  for (;;) {
    const page = await store.listVMoves({
      filters: { notificationUuid },
      sort: [{ key: 'created_at', dir: 'asc' }],
      limit: 1000,
      ...(marker !== undefined ? { marker } : {}),
    });
    out.push(...page);
    if (page.length < 1000) return out;
    marker = page[page.length - 1]!.id;
  }
}
