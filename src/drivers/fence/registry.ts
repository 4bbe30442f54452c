// The Fencer the controller uses: one BmcFencer per host of the `fencing.hosts` config, chosen by host name.

import { realEnv, type Env } from '../../core/env.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { Fencer, FenceResult, PowerState } from '../../core/ports/fence.ts';
import type { FenceHostConfig, FenceTiming, FencingConfig } from '../../core/config/sections/fencing.ts';
import { FenceAgentBackend } from './agent/fence-agent.ts';
import type { PowerBackend } from './backend.ts';
import { BmcFencer } from './bmc-fencer.ts';
import { FenceError } from './errors.ts';
import { IpmitoolBackend } from './ipmi/ipmitool.ts';
import { RedfishBackend } from './redfish/redfish.ts';

export interface FencerDeps {
  logger?: Logger;
  env?: Env;
  /** Where password_env names are looked up; default process.env. */
  processEnv?: Record<string, string | undefined>;
}

export function createBackend(h: FenceHostConfig): PowerBackend {
  switch (h.kind) {
    case 'ipmi':
      return new IpmitoolBackend(h);
    case 'redfish':
      return new RedfishBackend(h);
    case 'agent':
      return new FenceAgentBackend(h);
  }
}

function timingOf(h: FenceHostConfig, d: FenceTiming): FenceTiming {
  return {
    timeout_seconds: h.timeout_seconds ?? d.timeout_seconds,
    retries: h.retries ?? d.retries,
    retry_backoff_seconds: h.retry_backoff_seconds ?? d.retry_backoff_seconds,
    confirm_timeout_seconds: h.confirm_timeout_seconds ?? d.confirm_timeout_seconds,
    poll_interval_seconds: h.poll_interval_seconds ?? d.poll_interval_seconds,
  };
}

export class ConfiguredFencer implements Fencer {
  readonly kind = 'bmc';
  private readonly byHost = new Map<string, BmcFencer>();

  constructor(config: FencingConfig, deps: FencerDeps = {}) {
    const logger = deps.logger ?? silentLogger;
    const log = logger.bindings().component ? logger : logger.child({ component: 'fence' });
    for (const [host, h] of Object.entries(config.hosts)) {
      const backend = createBackend(h);
      this.byHost.set(
        host,
        new BmcFencer({
          host,
          backend,
          timing: timingOf(h, config.defaults),
          secret: { password: h.password, password_file: h.password_file, password_env: h.password_env },
          env: deps.env ?? realEnv,
          logger,
          ...(deps.processEnv ? { processEnv: deps.processEnv } : {}),
        }),
      );
      if (h.password !== undefined) log.warn({ host }, 'BMC password is written in the configuration; prefer password_file or password_env');
      if (h.kind === 'redfish' && !h.verify_tls) log.warn({ host, bmc: backend.describe }, 'TLS certificate of the BMC is NOT verified (verify_tls: false)');
    }
  }

  hosts(): string[] {
    return [...this.byHost.keys()].sort();
  }

  has(host: string): boolean {
    return this.byHost.has(host);
  }

  /** The per-host fencer; FenceError 'not_configured' when the host has none. */
  for(host: string): BmcFencer {
    const f = this.byHost.get(host);
    if (!f) {
      const known = this.hosts();
      throw new FenceError(
        'not_configured',
        `no fencer configured for host ${host}` + (known.length ? ` (fencing.hosts has: ${known.join(', ')})` : ' (fencing.hosts is empty)'),
      );
    }
    return f;
  }

  async status(host: string, signal?: AbortSignal): Promise<PowerState> {
    return this.for(host).status(signal);
  }

  async powerOff(host: string, signal?: AbortSignal): Promise<FenceResult> {
    return this.for(host).powerOff(signal);
  }

  async powerOn(host: string, signal?: AbortSignal): Promise<FenceResult> {
    return this.for(host).powerOn(signal);
  }
}

export function createFencer(config: FencingConfig, deps: FencerDeps = {}): ConfiguredFencer {
  return new ConfiguredFencer(config, deps);
}
