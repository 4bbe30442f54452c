// The flood tests' notifications (flood.test.ts, galera-flood.test.ts): VM, PROCESS and COMPUTE_HOST bodies with
// unique payloads on HOSTS hosts named flood-00.., ~10% exact duplicates of a body sent 1-40 positions earlier.
import { randomUUID } from 'node:crypto';

export type Body = { type: string; hostname: string; generated_time: string; payload: Record<string, string> };

export function makeBodies(rand: () => number, COUNT: number, HOSTS: number): { bodies: Body[]; duplicateOf: (number | null)[] } {
  const uniques = Math.round(COUNT / 1.1);
  const base = Date.now();
  const uniqueBodies: Body[] = [];
  const chCount = new Map<string, number>();
  for (let i = 0; i < uniques; i++) {
    const hostname = `flood-${String(i % HOSTS).padStart(2, '0')}`;
    const generated_time = new Date(base + i).toISOString();
    const r = rand();
    if (r < 0.45)
      uniqueBodies.push({
        type: 'VM',
        hostname,
        generated_time,
        payload: { instance_uuid: randomUUID(), vir_domain_event: 'STOPPED_FAILED', event: 'LIFECYCLE' },
      });
    else if (r < 0.8)
      uniqueBodies.push({
        type: 'VM',
        hostname,
        generated_time,
        payload: { instance_uuid: randomUUID(), vir_domain_event: 'STARTED_BOOTED', event: 'LIFECYCLE' },
      });
    else if (r < 0.9) uniqueBodies.push({ type: 'PROCESS', hostname, generated_time, payload: { process_name: `proc-${i}`, event: 'STARTED' } });
    else {
      // COMPUTE_HOST payloads have few variants, so identical ones on one host are kept apart by generated_time:
      // 400 s (> 2 x the 180 s duplicate window) between the k-th and (k+1)-th of a host, going back in time.
      const k = (chCount.get(hostname) ?? 0) + 1;
      chCount.set(hostname, k);
      uniqueBodies.push({
        type: 'COMPUTE_HOST',
        hostname,
        generated_time: new Date(base - k * 400_000).toISOString(),
        payload: { event: 'STOPPED', host_status: 'UNKNOWN', cluster_status: 'OFFLINE' },
      });
    }
  }
  // Sequence: uniques in order; each duplicate goes 1..40 positions after its original.
  const bodies: Body[] = [];
  const duplicateOf: (number | null)[] = [];
  const pending: { at: number; of: number }[] = [];
  let dups = COUNT - uniques;
  for (let i = 0; i < uniques; i++) {
    bodies.push(uniqueBodies[i]!);
    duplicateOf.push(null);
    const idx = bodies.length - 1;
    if (dups > 0 && uniqueBodies[i]!.type === 'VM' && rand() < 0.15) {
      pending.push({ at: idx + 1 + Math.floor(rand() * 40), of: idx });
      dups--;
    }
    for (let k = pending.length - 1; k >= 0; k--) {
      if (pending[k]!.at <= bodies.length) {
        bodies.push({ ...bodies[pending[k]!.of]! });
        duplicateOf.push(pending[k]!.of);
        pending.splice(k, 1);
      }
    }
  }
  for (const p of pending) (bodies.push({ ...bodies[p.of]! }), duplicateOf.push(p.of));
  // Top up to COUNT with duplicates of random earlier VM bodies (when the 15% draw fell short).
  while (bodies.length < COUNT) {
    const of = Math.floor(rand() * bodies.length);
    if (duplicateOf[of] !== null || bodies[of]!.type !== 'VM') continue;
    bodies.push({ ...bodies[of]! });
    duplicateOf.push(of);
  }
  return { bodies, duplicateOf };
}
