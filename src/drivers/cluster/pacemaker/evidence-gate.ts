// Builds the Pacemaker fence-evidence gate from the configuration (cluster_safety.pacemaker_evidence), for
// src/roles/backends.ts. Kept here so the wiring stays one line and the loud opt-in log sits next to the driver.

import type { Config } from '../../../core/config/schema.ts';
import type { Logger } from '../../../core/log.ts';
import type { FenceGate } from '../../../core/ports/fence.ts';
import { pacemakerFenceGate } from './fence-evidence.ts';
import { PacemakerDriver } from './pacemaker-driver.ts';

export function pacemakerEvidenceGate(config: Config, log: Logger): FenceGate | undefined {
  const c = config.cluster_safety.pacemaker_evidence;
  if (!c.enabled) return undefined;
  log.info(
    { command: c.command.join(' '), failure_time_tolerance_seconds: c.failure_time_tolerance_seconds, max_age_seconds: c.max_age_seconds },
    "fence evidence: Pacemaker's fence history is asked first",
  );
  return pacemakerFenceGate({
    driver: new PacemakerDriver({ command: c.command, timeoutMs: c.timeout_seconds * 1000 }),
    failureToleranceMs: c.failure_time_tolerance_seconds * 1000,
    maxAgeMs: c.max_age_seconds * 1000,
  });
}
