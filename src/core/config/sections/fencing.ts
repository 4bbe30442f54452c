import { z } from 'zod';

// `fencing`: how the controller powers a failed host off before its VMs start elsewhere (docs/fencing.md).
// hosts maps the host name Masakari knows (the notification's hostname) to that host's BMC. Passwords may come from
// a file or an environment variable, so that this file need not hold secrets.

/** Timing of one fencer. Defaults sit in `fencing.defaults`; each host may override any of them. */
const timingShape = {
  /** Hard limit on one attempt: one ipmitool run, one HTTP request, one fence agent run. */
  timeout_seconds: z.number().positive().max(600),
  /** Further attempts after a failed one (timeouts, unreachable BMC); never after an authentication failure. */
  retries: z.number().int().min(0).max(10),
  /** Wait before the first retry; doubled for each further one (with up to 20 % jitter), at most 30 s. */
  retry_backoff_seconds: z.number().min(0).max(30),
  /** After a power command: how long to keep querying the status until it shows the requested state. */
  confirm_timeout_seconds: z.number().min(0).max(3600),
  /** Pause between those status queries. */
  poll_interval_seconds: z.number().min(0).max(60),
};

export const FENCING_TIMING_DEFAULTS = {
  timeout_seconds: 20,
  retries: 2,
  retry_backoff_seconds: 1,
  confirm_timeout_seconds: 60,
  poll_interval_seconds: 1,
} as const;

const timingDefaults = z.strictObject({
  timeout_seconds: timingShape.timeout_seconds.default(FENCING_TIMING_DEFAULTS.timeout_seconds),
  retries: timingShape.retries.default(FENCING_TIMING_DEFAULTS.retries),
  retry_backoff_seconds: timingShape.retry_backoff_seconds.default(FENCING_TIMING_DEFAULTS.retry_backoff_seconds),
  confirm_timeout_seconds: timingShape.confirm_timeout_seconds.default(FENCING_TIMING_DEFAULTS.confirm_timeout_seconds),
  poll_interval_seconds: timingShape.poll_interval_seconds.default(FENCING_TIMING_DEFAULTS.poll_interval_seconds),
});

const common = {
  timeout_seconds: timingShape.timeout_seconds.optional(),
  retries: timingShape.retries.optional(),
  retry_backoff_seconds: timingShape.retry_backoff_seconds.optional(),
  confirm_timeout_seconds: timingShape.confirm_timeout_seconds.optional(),
  poll_interval_seconds: timingShape.poll_interval_seconds.optional(),
  username: z.string().default(''),
  /** The password itself (discouraged: prefer password_file or password_env). */
  password: z.string().optional(),
  /** A file holding the password (one trailing newline is ignored). Read at each fencing operation. */
  password_file: z.string().min(1).optional(),
  /** The name of an environment variable of the controller holding the password. */
  password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
};

const address = z
  .string()
  .min(1)
  .regex(/^[^\s/]+$/, 'must be a host name or IP address, without scheme or path');

export const ipmiFenceHost = z.strictObject({
  kind: z.literal('ipmi'),
  ...common,
  /** BMC address (host name or IP). */
  address,
  port: z.number().int().min(1).max(65535).default(623),
  /** lanplus is IPMI v2.0 (RMCP+), what every current BMC speaks; lan is IPMI v1.5. */
  interface: z.enum(['lanplus', 'lan']).default('lanplus'),
  /** RMCP+ cipher suite (ipmitool -C). 3 = HMAC-SHA1 + AES-128, accepted by nearly every BMC; 17 = SHA256. */
  cipher_suite: z.number().int().min(0).max(17).default(3),
  /** Session privilege (ipmitool -L); null = ipmitool's default (ADMINISTRATOR). */
  privilege: z.enum(['administrator', 'operator', 'user']).nullable().default(null),
  /** The ipmitool program (a name on PATH or an absolute path). */
  command: z.string().min(1).default('ipmitool'),
  /**
   * ipmitool's own wait for an answer (-N, whole seconds) and resends (-R) inside one attempt. ipmitool lengthens the
   * wait on each resend: against a silent BMC, -N 1 -R 1 gives up after ~2 s, -N 1 -R 2 after ~6 s, -N 2 -R 2 after
   * ~10 s. Keep that below timeout_seconds. -R 0 would mean ipmitool's default (4 resends, ~20 s), hence min 1.
   */
  session_timeout_seconds: z.number().int().min(1).max(30).default(1),
  session_retries: z.number().int().min(1).max(10).default(2),
});

export const redfishFenceHost = z.strictObject({
  kind: z.literal('redfish'),
  ...common,
  /** The BMC's base URL: https://HOST[:PORT]. Plain http is refused: credentials would cross the network in clear. */
  url: z
    .string()
    .url()
    .refine((u) => u.startsWith('https://'), 'must be an https:// URL'),
  /** false accepts any certificate (self-signed BMCs); the startup log says so. Prefer ca_file. */
  verify_tls: z.boolean().default(true),
  /** PEM file with the CA (or the BMC's own certificate) to trust instead of the system's CAs. */
  ca_file: z.string().min(1).nullable().default(null),
  /** Path of the ComputerSystem, e.g. /redfish/v1/Systems/System.Embedded.1; null = discover (must be exactly one). */
  system: z.string().startsWith('/').nullable().default(null),
  service_root: z.string().startsWith('/').default('/redfish/v1'),
  /** basic: HTTP basic auth on each request. session: log in to SessionService (X-Auth-Token), log out after. */
  auth: z.enum(['basic', 'session']).default('basic'),
});

const FORBIDDEN_AGENT_KEYS = ['action', 'password', 'passwd', 'username', 'login'];

export const agentFenceHost = z.strictObject({
  kind: z.literal('agent'),
  ...common,
  /** A fence-agents program: a name on PATH such as fence_ipmilan, or an absolute path to a fence_* program. */
  agent: z.string().regex(/^(\/[^\0]*\/)?fence_[A-Za-z0-9_]+$/, 'must be a fence_* program name or an absolute path to one'),
  /** Further key=value lines for the agent's stdin, e.g. {ip: 10.0.0.5, lanplus: true, cipher: 3}. */
  options: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]+$/, 'option names are letters, digits, _ and -'),
      z.union([z.string().regex(/^[^\r\n]*$/, 'must be one line'), z.number(), z.boolean()]),
    )
    .default({})
    .refine(
      (o) => !Object.keys(o).some((k) => FORBIDDEN_AGENT_KEYS.includes(k)),
      `options must not set ${FORBIDDEN_AGENT_KEYS.join(', ')}: the driver sets action, and credentials go in username and password/password_file/password_env`,
    ),
});

export const fenceHost = z
  .discriminatedUnion('kind', [ipmiFenceHost, redfishFenceHost, agentFenceHost], {
    error: 'kind must be ipmi, redfish or agent',
  })
  .refine(
    (h) => [h.password, h.password_file, h.password_env].filter((v) => v !== undefined).length <= 1,
    'set at most one of password, password_file, password_env',
  );

export const fencingSection = z.strictObject({
  defaults: timingDefaults.prefault({}),
  /** Host name (as in notifications and the hosts API) -> its fencer. */
  hosts: z.record(z.string().min(1), fenceHost).default({}),
  /**
   * Seconds between two readiness checks of every host's fencer: one power STATUS query (never a power action) that
   * shows the BMC answers and the credentials work (docs/protection.md). 0: only on demand
   * (POST /v1/x-masakari/fencing-readiness/check).
   */
  readiness_interval: z.number().min(0).default(300),
});

export type FencingConfig = z.infer<typeof fencingSection>;
export type FenceHostConfig = z.infer<typeof fenceHost>;
export type IpmiFenceHostConfig = z.infer<typeof ipmiFenceHost>;
export type RedfishFenceHostConfig = z.infer<typeof redfishFenceHost>;
export type AgentFenceHostConfig = z.infer<typeof agentFenceHost>;
export type FenceTiming = z.infer<typeof timingDefaults>;
