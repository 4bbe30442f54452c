// Fencing: making sure a failed host can no longer write to shared storage before its VMs start
// elsewhere. core owns this interface; src/drivers/fence/{ipmi,redfish,agent} implement it.

import { AppError } from '../errors.ts';

export type PowerState = 'on' | 'off' | 'unknown';

export interface FenceResult {
  /** Power state confirmed by a status query after the action. */
  confirmed: PowerState;
  /** Human-readable evidence, recorded in the notification's progress details. Never contains secrets. */
  evidence: string;
}

export interface Fencer {
  readonly kind: string;
  /** `signal` (optional): abort the operation; real drivers then kill their ipmitool/agent or drop the request. */
  status(host: string, signal?: AbortSignal): Promise<PowerState>;
  powerOff(host: string, signal?: AbortSignal): Promise<FenceResult>;
  powerOn(host: string, signal?: AbortSignal): Promise<FenceResult>;
}

/**
 * Why a Fencer operation failed, as a stable code (src/drivers/fence/errors.ts documents each). Lets core tell
 * "no fencer for this host" (not_configured) or a wrong password (auth) from a BMC that did not answer.
 */
export type FenceErrorCode = 'auth' | 'unreachable' | 'timeout' | 'protocol' | 'failed' | 'config' | 'not_configured' | 'aborted';

export class FenceError extends AppError {
  constructor(
    readonly code: FenceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the host-failure workflow asks before it evacuates anything: proof that the failed host is fenced.
 * Implementations: a Fencer (power off, then a status query confirms off; see src/core/engine/fence-gate.ts) or a
 * cluster's fence history (Pacemaker's `stonith_admin --history`). `fenced: false` stops the workflow with `reason`.
 */
export type FenceEvidence = { fenced: true; source: string; evidence: string } | { fenced: false; source: string; reason: string };

/** What the workflow asks a gate about: which failure the evidence must cover, and how to give up. */
export interface FenceQuery {
  /**
   * When the failure being recovered was seen (the notification's generated_time, by the monitor's clock). Evidence
   * from before it, such as a fencing for an earlier failure of the same host, says nothing about this one.
   */
  failedAt: Date;
  /** Aborted when the workflow stops waiting (controller stopping, lease lost, time limit). */
  signal?: AbortSignal;
}

export interface FenceGate {
  confirmFenced(host: string, query: FenceQuery): Promise<FenceEvidence>;
}
