// Fencing: making sure a failed host can no longer write to shared storage before its VMs start
// elsewhere. core owns this interface; src/drivers/fence/{ipmi,redfish,agent} implement it.

export type PowerState = 'on' | 'off' | 'unknown';

export interface FenceResult {
  /** Power state confirmed by a status query after the action. */
  confirmed: PowerState;
  /** Human-readable evidence, recorded in the notification's progress details. Never contains secrets. */
  evidence: string;
}

export interface Fencer {
  readonly kind: string;
  status(host: string): Promise<PowerState>;
  powerOff(host: string): Promise<FenceResult>;
  powerOn(host: string): Promise<FenceResult>;
}

/**
 * What the host-failure workflow asks before it evacuates anything: proof that the failed host is fenced.
 * Implementations: a Fencer (power off, then a status query confirms off; see src/core/engine/fence-gate.ts) or a
 * cluster's fence history (Pacemaker's `stonith_admin --history`). `fenced: false` stops the workflow with `reason`.
 */
export type FenceEvidence =
  | { fenced: true; source: string; evidence: string }
  | { fenced: false; source: string; reason: string };

export interface FenceGate {
  confirmFenced(host: string, signal?: AbortSignal): Promise<FenceEvidence>;
}
