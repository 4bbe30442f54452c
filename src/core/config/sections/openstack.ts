import { z } from 'zod';
import { seconds } from '../types.ts';

// How the controller reaches OpenStack as its service user (Masakari's [keystone_authtoken]/os_privileged_user_*
// and nova_catalog_admin_info options, in one section). Read by src/drivers/openstack (Keystone session, HTTP
// client) and src/drivers/compute/nova. Every field is documented in docs/openstack.md.

const optionalString = z.string().min(1).nullable().default(null);

export const openstackSection = z
  .strictObject({
    /** Keystone v3 endpoint, e.g. http://controller:5000/v3 ("/v3" is added when missing). Null: Nova is not used. */
    auth_url: z.url().nullable().default(null),
    /** password: a service user; v3applicationcredential: an application credential (no password in the config). */
    auth_type: z.enum(['password', 'v3applicationcredential']).default('password'),
    username: optionalString,
    user_id: optionalString,
    password: optionalString,
    user_domain_name: z.string().min(1).default('Default'),
    user_domain_id: optionalString,
    project_name: optionalString,
    project_id: optionalString,
    project_domain_name: z.string().min(1).default('Default'),
    project_domain_id: optionalString,
    application_credential_id: optionalString,
    application_credential_name: optionalString,
    application_credential_secret: optionalString,
    /** Catalog filters: the region and interface of the compute endpoint (Masakari's os_region_name, nova_catalog_admin_info). */
    region_name: optionalString,
    interface: z.enum(['public', 'internal', 'admin']).default('public'),
    /** Use this compute endpoint instead of the catalog's, e.g. http://nova:8774/v2.1 */
    compute_endpoint_override: z.url().nullable().default(null),
    /** Per-request timeout. */
    timeout: seconds(60),
    /**
     * Timeout for PUT /os-services: Nova makes a synchronous RPC to the compute (rpc_response_timeout, 60 s by
     * default) when a service is disabled while it still looks up, so this must be longer than that.
     */
    service_update_timeout: seconds(120),
    /** Extra attempts after a connection error or a retryable 5xx (0 = no retries). */
    retries: z.number().int().min(0).max(20).default(3),
    /** First backoff delay; it doubles per attempt (with jitter) up to retry_max_delay. */
    retry_delay: seconds(0.5),
    retry_max_delay: seconds(10),
    /** A token is renewed this long before it expires. */
    token_refresh_margin: seconds(120),
    nova: z
      .strictObject({
        /**
         * Highest compute microversion to ask for; the client uses min(this, what Nova offers) and needs 2.53 at
         * least (service UUIDs). 2.95 changes evacuation (evacuated servers end up stopped), so it is not the default.
         */
        max_microversion: z
          .string()
          .regex(/^2\.\d+$/, 'must look like 2.NN, e.g. 2.93')
          .default('2.93'),
        /** Page size when listing the servers on a host (Nova's default max is 1000). */
        page_size: z.number().int().min(1).max(1000).default(500),
      })
      .prefault({}),
  })
  .superRefine((o, ctx) => {
    if (o.auth_url === null) return;
    const need = (key: keyof typeof o, why: string) => {
      if (o[key] === null) ctx.addIssue({ code: 'custom', path: [key], message: `required: ${why}` });
    };
    if (o.auth_type === 'password') {
      need('password', 'auth_type password needs a password');
      if (o.username === null && o.user_id === null) need('username', 'auth_type password needs username or user_id');
      if (o.project_name === null && o.project_id === null) need('project_name', 'the service user needs a project scope (project_name or project_id)');
    } else {
      need('application_credential_secret', 'auth_type v3applicationcredential needs the secret');
      if (o.application_credential_id === null) {
        need('application_credential_name', 'give application_credential_id, or its name with username or user_id');
        if (o.username === null && o.user_id === null) need('username', 'an application credential given by name needs its user (username or user_id)');
      }
    }
    const [, minor] = o.nova.max_microversion.split('.');
    if (Number(minor) < 53) {
      ctx.addIssue({ code: 'custom', path: ['nova', 'max_microversion'], message: 'must be 2.53 or newer (service UUIDs, forced_down)' });
    }
    if (o.retry_max_delay < o.retry_delay) {
      ctx.addIssue({ code: 'custom', path: ['retry_max_delay'], message: 'must be at least retry_delay' });
    }
  });

export type OpenstackConfig = z.infer<typeof openstackSection>;
