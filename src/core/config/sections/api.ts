import { z } from 'zod';
import { hostPort } from '../types.ts';

export const keystoneSection = z.strictObject({
  /** Keystone v3 endpoint, e.g. http://controller:5000/v3 */
  auth_url: z.string().url().default('http://127.0.0.1:5000/v3'),
  /** The service user that validates incoming tokens (keystonemiddleware's [keystone_authtoken]). */
  username: z.string().default('masakari'),
  password: z.string().default(''),
  project_name: z.string().default('service'),
  user_domain_name: z.string().default('Default'),
  project_domain_name: z.string().default('Default'),
  region_name: z.string().nullable().default(null),
  interface: z.enum(['public', 'internal', 'admin']).default('internal'),
  /** How long a validated user token is trusted without asking Keystone again. */
  token_cache_seconds: z.number().int().min(0).max(3600).default(300),
  /** Upper bound on cached validations (memory). */
  token_cache_size: z.number().int().min(0).default(10000),
  timeout_seconds: z.number().positive().default(10),
  /** Public Keystone URL clients are sent to in 401 answers (WWW-Authenticate); default: auth_url without /v3. */
  www_authenticate_uri: z.string().url().nullable().default(null),
});

export const apiSection = z.strictObject({
  /** HOST:PORT the REST API listens on. Masakari's port is 15868. */
  listen: hostPort.default('127.0.0.1:15868'),
  /** noauth2: no authentication, every caller is admin (labs and tests only). keystone: validate X-Auth-Token. */
  auth_strategy: z.enum(['noauth2', 'keystone']).default('noauth2'),
  keystone: keystoneSection.prefault({}),
  /** Policy rule overrides, e.g. {"os_masakari_api:segments:index": "role:admin or role:reader"}. */
  policy: z.record(z.string(), z.string()).default({}),
  /** Largest page a list returns, whatever `limit` asks. */
  osapi_max_limit: z.number().int().min(1).default(1000),
  /** Requests with a larger body get 413. */
  max_request_body_size: z.number().int().min(1024).default(114688),
  /**
   * Believe Forwarded / X-Forwarded-Proto / X-Forwarded-Host / X-Forwarded-For (oslo.middleware's option of the same
   * name). Only behind a proxy that sets them: otherwise any client can choose the links the API answers.
   */
  enable_proxy_headers_parsing: z.boolean().default(false),
});
