// A simulated fencer: powers hosts of the simulated cloud off and on through a pretend BMC. Faults let scenarios
// cover a BMC that errors out and one that claims success while the host keeps its power.

import { FenceError, type Fencer, type FenceResult, type PowerState } from '../../../core/ports/fence.ts';
import type { SimCloud } from '../../compute/sim/cloud.ts';

export type SimFenceFault = 'error' | 'no_effect';

export class SimFencer implements Fencer {
  readonly kind = 'sim-bmc';
  /** Per host: the BMC errors out, or accepts the command but the power stays on. */
  readonly faults = new Map<string, SimFenceFault>();

  constructor(
    private readonly cloud: SimCloud,
    private readonly latencyMs = 2_000,
  ) {}

  private bmc(host: string): void {
    if (!this.cloud.hosts.has(host)) throw new FenceError('not_configured', `no BMC configured for host '${host}'`);
    if (this.faults.get(host) === 'error') throw new FenceError('timeout', `BMC of '${host}' did not answer (simulated timeout)`);
  }

  async status(host: string): Promise<PowerState> {
    await this.cloud.env.sleep(this.latencyMs / 4);
    this.bmc(host);
    return this.cloud.hosts.get(host)!.power;
  }

  async powerOff(host: string): Promise<FenceResult> {
    await this.cloud.env.sleep(this.latencyMs);
    this.bmc(host);
    this.cloud.event(`fence power-off ${host}`);
    if (this.faults.get(host) !== 'no_effect') this.cloud.powerOff(host);
    const confirmed = await this.status(host);
    return { confirmed, evidence: `chassis power off, status query: ${confirmed}` };
  }

  async powerOn(host: string): Promise<FenceResult> {
    await this.cloud.env.sleep(this.latencyMs);
    this.bmc(host);
    this.cloud.event(`fence power-on ${host}`);
    this.cloud.powerOn(host);
    const confirmed = await this.status(host);
    return { confirmed, evidence: `chassis power on, status query: ${confirmed}` };
  }
}
