// Fence gates built from the Fencer port: power the failed host off, then believe only a status query that says
// "off". Several gates can be chained (e.g. the cluster's fence history, then a BMC): the first evidence wins.

import type { Env } from '../env.ts';
import type { FenceEvidence, FenceGate, Fencer } from '../ports/fence.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function fencerGate(fencer: Fencer): FenceGate {
  return {
    // `failedAt` needs no check here: the power-off happens now, during this recovery, so after the failure.
    // `signal` reaches the fencer: when withTimeout gives up, the ipmitool/agent/HTTP request is ended too, instead
    // of a power-off still running in the background while the engine retries.
    async confirmFenced(host, { signal }) {
      const source = fencer.kind;
      try {
        const result = await fencer.powerOff(host, signal);
        // The power-off answer alone is not evidence: some BMCs acknowledge and do nothing.
        const confirmed = result.confirmed === 'off' ? 'off' : await fencer.status(host, signal);
        if (confirmed === 'off') return { fenced: true, source, evidence: `${source}: ${result.evidence}` };
        return { fenced: false, source, reason: `${source} powered off host '${host}' but its power state is '${confirmed}'` };
      } catch (e) {
        return { fenced: false, source, reason: `${source} could not power off host '${host}': ${message(e)}` };
      }
    },
  };
}

/** Tries each gate in order; fenced as soon as one has evidence, otherwise every reason is reported. */
export function firstEvidence(gates: FenceGate[]): FenceGate {
  return {
    async confirmFenced(host, query) {
      const reasons: string[] = [];
      for (const g of gates) {
        const ev: FenceEvidence = await g.confirmFenced(host, query);
        if (ev.fenced) return ev;
        reasons.push(ev.reason);
      }
      return { fenced: false, source: 'none', reason: reasons.join('; ') || 'no fence gate configured' };
    },
  };
}

/** Bounds a gate's time: a fencer that hangs yields "no evidence" after `timeoutMs`. */
export function withTimeout(gate: FenceGate, env: Env, timeoutMs: number): FenceGate {
  return {
    async confirmFenced(host, { failedAt, signal }) {
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.race([
          gate.confirmFenced(host, { failedAt, signal: ac.signal }),
          env.sleep(timeoutMs, ac.signal).then(
            (): FenceEvidence => ({ fenced: false, source: 'timeout', reason: `no fence evidence for host '${host}' within ${timeoutMs / 1000} s` }),
            // Cancelled because the gate answered first: never settles, so it cannot win the race.
            () => new Promise<FenceEvidence>(() => {}),
          ),
        ]);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        ac.abort();
      }
    },
  };
}
