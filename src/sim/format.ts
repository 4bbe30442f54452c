// The scenario file format of the deterministic simulator (YAML). See docs/engine.md, "Simulator".
// A scenario is a starting cloud, a list of timed events, and (next to it) the expected log.

import { z } from 'zod';
import { RECOVERY_METHODS } from '../core/domain/model.ts';
import { AppError } from '../core/errors.ts';

const vmStates = ['active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized', 'error', 'shelved'] as const;

const hostSchema = z.strictObject({
  name: z.string().min(1),
  reserved: z.boolean().default(false),
  on_maintenance: z.boolean().default(false),
  power: z.enum(['on', 'off']).default('on'),
  service_enabled: z.boolean().default(true),
});

const segmentSchema = z.strictObject({
  name: z.string().min(1),
  recovery_method: z.enum(RECOVERY_METHODS).default('auto'),
  enabled: z.boolean().default(true),
  hosts: z.array(hostSchema).default([]),
});

const serverSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  host: z.string().min(1),
  vm_state: z.enum(vmStates).default('active'),
  task_state: z.string().nullable().default(null),
  power_state: z.number().int().optional(),
  metadata: z.record(z.string(), z.string()).default({}),
  locked: z.boolean().default(false),
});

/** Generates many servers at once (benchmarks, large scenarios). */
const serverGroupSchema = z.strictObject({
  count: z.number().int().min(1).max(100_000),
  prefix: z.string().min(1),
  host: z.string().min(1),
  /** Every n-th server (from the first) is HA-enabled; 1 = all, 0 = none. */
  ha_every: z.number().int().min(0).default(1),
  vm_state: z.enum(vmStates).default('active'),
});

const notifySchema = z.strictObject({
  /** Short name used in the log (n1, n2...). */
  id: z.string().min(1),
  type: z.enum(['COMPUTE_HOST', 'VM', 'PROCESS']),
  host: z.string().min(1),
  payload: z.record(z.string(), z.string()),
  /** Seconds before "now" the monitor generated it (default 0). */
  generated_ago: z.number().min(0).default(0),
  /** Controller that gets the API callback: first (alive), a name, all, or none (left to the periodic jobs). */
  to: z.string().default('first'),
});

const crashOnTask = z.strictObject({
  controller: z.string().default('c1'),
  task: z.string().min(1),
  when: z.enum(['start', 'end']),
  /** The n-th time that task starts/ends (default the first). */
  nth: z.number().int().min(1).default(1),
  /** Restart the controller this many seconds later (omit: stays down until a restart event). */
  restart_after: z.number().min(0).optional(),
});

const eventSchema = z
  .strictObject({
    at: z.number().min(0).default(0),
    notify: notifySchema.optional(),
    power_off: z.string().optional(),
    power_on: z.string().optional(),
    crash: z.string().optional(),
    restart: z.string().optional(),
    crash_on_task: crashOnTask.optional(),
    crash_after_evacuations: z
      .strictObject({ controller: z.string().default('c1'), count: z.number().int().min(1), restart_after: z.number().min(0).optional() })
      .optional(),
    /** Kill the controller right after its `count`-th successful call of `op` (e.g. lockServer, resetServerState). */
    crash_after_calls: z
      .strictObject({
        controller: z.string().default('c1'),
        op: z.string().min(1),
        count: z.number().int().min(1),
        restart_after: z.number().min(0).optional(),
      })
      .optional(),
    /** Kill the controller right after its `count`-th store write of any kind (a crash at an arbitrary point). */
    crash_after_store_writes: z
      .strictObject({ controller: z.string().default('c1'), count: z.number().int().min(1), restart_after: z.number().min(0).optional() })
      .optional(),
    nova: z.enum(['down', 'up']).optional(),
    fault: z
      .strictObject({
        op: z.string().min(1),
        target: z.string().optional(),
        code: z.enum(['not_found', 'conflict', 'unavailable', 'timeout', 'bad_request', 'unknown']),
        message: z.string().optional(),
        times: z.number().int().min(1).optional(),
      })
      .optional(),
    rebuild: z.strictObject({ server: z.string(), outcome: z.enum(['normal', 'error', 'stuck', 'late-move']) }).optional(),
    power: z.strictObject({ server: z.string(), outcome: z.enum(['normal', 'stuck']) }).optional(),
    fence_fault: z.strictObject({ host: z.string(), fault: z.enum(['error', 'no_effect', 'none']) }).optional(),
    server_state: z
      .strictObject({ server: z.string(), vm_state: z.enum(vmStates).optional(), task_state: z.string().nullable().optional(), host: z.string().optional() })
      .optional(),
    periodic: z.string().optional(),
  })
  .refine((e) => Object.keys(e).filter((k) => k !== 'at').length === 1, 'each event has "at" and exactly one action');

export const scenarioSchema = z.strictObject({
  description: z.string().min(1),
  seed: z.number().int().default(1),
  /** Virtual seconds to run (the run also stops earlier when nothing is left to do). */
  run_until: z.number().positive().default(7200),
  /** Controllers sharing the store; each is an engine with ownerId = its name. */
  controllers: z.array(z.string().min(1)).min(1).default(['c1']),
  /** Configuration overrides (same shape as config.yaml). */
  config: z.record(z.string(), z.unknown()).default({}),
  latencies: z
    .strictObject({
      api_ms: z.number().min(0),
      evacuate_call_ms: z.number().min(0),
      rebuild_min_ms: z.number().min(0),
      rebuild_max_ms: z.number().min(0),
      stop_ms: z.number().min(0),
      start_ms: z.number().min(0),
      service_down_ms: z.number().min(0),
    })
    .partial()
    .default({}),
  /** The simulated BMC fencer; null = no fencer configured. */
  fencer: z
    .strictObject({ latency_ms: z.number().min(0).default(2000) })
    .nullable()
    .default({ latency_ms: 2000 }),
  cloud: z.strictObject({
    segments: z.array(segmentSchema).default([]),
    /** Compute hosts that are not Masakari hosts (scheduler targets). */
    compute_hosts: z.array(z.string().min(1)).default([]),
    aggregates: z.array(z.strictObject({ name: z.string(), hosts: z.array(z.string()) })).default([]),
    servers: z.array(serverSchema).default([]),
    server_groups: z.array(serverGroupSchema).default([]),
  }),
  events: z.array(eventSchema).default([]),
  /** Summary detail: full progress details per task (default) or only task states (large runs). */
  summary: z.enum(['full', 'brief']).default('full'),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioEvent = Scenario['events'][number];

/** A scenario file that cannot be read or does not follow the format; `masakari sim run` exits 2 on it. */
export class ScenarioError extends AppError {
  readonly code = 'SCENARIO_INVALID';
}

export function parseScenario(raw: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.map(String).join('.') || '<root>'}: ${i.message}`);
  throw new ScenarioError(`invalid scenario ${source}:\n${lines.join('\n')}`);
}
