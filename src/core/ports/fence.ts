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
