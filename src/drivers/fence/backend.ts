// What each kind of BMC access (ipmi, redfish, agent) implements: one status query and one power command, each a
// single attempt. Retries, timeouts per attempt, confirmation polling, evidence, logging and redaction are shared
// (bmc-fencer.ts), so the three kinds behave the same way and only speak different protocols.

import type { PowerState } from '../../core/ports/fence.ts';

export type PowerTarget = 'on' | 'off';

export interface Attempt {
  /** The password, resolved for this operation (from config, file or environment). */
  password: string;
  /** Hard limit on this attempt. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface PowerBackend {
  readonly kind: 'ipmi' | 'redfish' | 'agent';
  /** Where the BMC is, for evidence and logs, e.g. "ipmi 10.0.0.5:623 lanplus cipher 3". Never holds secrets. */
  readonly describe: string;
  /**
   * True when the power command itself checks the state first and waits for the result (fence agents do, per the
   * fence-agents API): then no separate status query is sent before it.
   */
  readonly checksBeforeActing: boolean;
  status(a: Attempt): Promise<PowerState>;
  /** Sends the power command; resolves with a short account of the BMC's answer (no secrets). */
  setPower(target: PowerTarget, a: Attempt): Promise<string>;
}
