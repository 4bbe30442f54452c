// Evacuation makespan of one failed host, on the simulated cloud in virtual time (so it runs in seconds).
// Run: npx tsx bench/engine/evacuation.bench.ts [counts...]   (default 50 200 1000)
// Method and results: bench/README.md ("Engine").

import { parseScenario, runScenario } from '../../src/sim/index.ts';

const counts = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const sizes = counts.length ? counts : [50, 200, 1000];

/** Realistic Nova timings: API call 50 ms, evacuate POST 0.5 s, server ACTIVE on the new host 20-40 s later. */
const latencies = { api_ms: 50, evacuate_call_ms: 500, rebuild_min_ms: 20_000, rebuild_max_ms: 40_000, service_down_ms: 60_000 };

const profiles: Record<string, Record<string, unknown>> = {
  // This engine's defaults (32 evacuations in flight, fenced host forced down, poll instead of sleep).
  'this engine (defaults)': {},
  // The same with more evacuations in flight, for clouds whose Nova and storage take it.
  'this engine, 128 in flight': { engine: { host_failure_recovery_threads: 128 } },
  // Masakari 14 as shipped: 3 green threads, 180 s sleep after disabling the service, no forced-down, no fencing.
  'Masakari-like': {
    engine: { host_failure_recovery_threads: 3 },
    host_failure: { service_update_wait: 'fixed_sleep', force_down_compute_service: false, fencing_required: false },
  },
};

function scenario(n: number, config: Record<string, unknown>) {
  const targets = Array.from({ length: 20 }, (_, i) => `cmp${String(i + 2).padStart(2, '0')}`);
  return parseScenario(
    {
      description: `bench: ${n} instances`,
      run_until: 200_000,
      config,
      latencies,
      summary: 'brief',
      cloud: {
        segments: [{ name: 'seg', recovery_method: 'auto', hosts: [{ name: 'cmp01' }, ...targets.map((name) => ({ name }))] }],
        server_groups: [{ count: n, prefix: 'vm', host: 'cmp01', ha_every: 2 }],
      },
      events: [
        { at: 0, power_off: 'cmp01' },
        { at: 0, notify: { id: 'n1', type: 'COMPUTE_HOST', host: 'cmp01', payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' } } },
      ],
    },
    'bench',
  );
}

const fmt = (s: number) => `${s.toFixed(0)} s (${(s / 60).toFixed(1)} min)`;
console.log('| instances | profile | makespan (virtual) | final status | wall time of the simulation |');
console.log('|---:|---|---:|---|---:|');
for (const n of sizes) {
  for (const [name, config] of Object.entries(profiles)) {
    const t0 = performance.now();
    const r = await runScenario(scenario(n, config), { noSummary: true });
    const wall = (performance.now() - t0) / 1000;
    const st = r.notifications[0]!;
    const makespan = (st.finalAtS ?? r.endS) - st.acceptedAtS;
    console.log(`| ${n} | ${name} | ${fmt(makespan)} | ${st.finalStatus} | ${wall.toFixed(1)} s |`);
  }
}
