// The Masakari v1 REST API as a hono app. Middleware order follows Masakari's paste pipeline:
//   request id -> access log -> faults -> declared body size limit -> auth -> body read -> (router) -> microversion
//   -> resource
// GET / answers without authentication; everything under /v1 (and /v1/{project_id}) goes through auth, and no body
// is read before it. The Node server in front of it is in server.ts.

import { Hono } from 'hono';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import type { Config } from '../config/schema.ts';
import type { Notification } from '../domain/model.ts';
import { realEnv, type Env } from '../env.ts';
import type { Logger } from '../log.ts';
import type { HostCatalog } from '../ports/host-catalog.ts';
import type { PasswordLogin, TokenValidator } from '../ports/identity.ts';
import type { ApiFetch } from '../dashboard/api-client.ts';
import { dashboardApp } from '../dashboard/app.ts';
import type { Store } from '../store/types.ts';
import type { ApiEnv } from './context.ts';
import { accessLog } from './middleware/access-log.ts';
import { authenticate } from './middleware/auth.ts';
import { declaredSizeLimit, readBody } from './middleware/body.ts';
import { notFound, onError } from './middleware/faults.ts';
import { microversion } from './middleware/microversion.ts';
import { PolicyEnforcer } from './middleware/policy.ts';
import { requestId } from './middleware/request-id.ts';
import { requestMetrics } from './middleware/metrics.ts';
import type { ApiMetrics } from '../observe/metric-set.ts';
import type { ResourceDeps } from './resources/common.ts';
import { hostRoutes } from './resources/hosts.ts';
import { notificationRoutes } from './resources/notifications.ts';
import { segmentRoutes } from './resources/segments.ts';
import { versionDocuments } from './resources/versions.ts';
import { vmoveRoutes } from './resources/vmoves.ts';
import { extensionRoutes, type ExtensionDeps } from './resources/extensions/index.ts';
import type { EventBus } from '../observe/bus.ts';
import { publisherOf } from '../observe/events.ts';
import type { EventFeed } from '../observe/history.ts';
import { protectionRoutes, type ProtectionApiDeps } from './resources/extensions/protection.ts';
import { ProtectionService } from '../protection/service.ts';
import { ResponseCache } from './response-cache.ts';
import { routingPath } from './routing-path.ts';

export interface ApiDeps {
  store: Store;
  config: Config;
  log: Logger;
  hostCatalog: HostCatalog;
  env?: Env;
  /** Called after a notification was stored (202): the engine's intake. */
  onNotificationAccepted?: (n: Notification) => void;
  /** Required when config.api.auth_strategy is keystone (src/drivers/identity/keystone.ts). */
  tokenValidator?: TokenValidator;
  /** The process's event bus: segment, host and notification changes are published there. */
  bus?: EventBus;
  /** Wakes event streams when this process wrote events to the history (src/core/observe/history.ts). */
  eventFeed?: EventFeed;
  /** What the extension resources under /v1/x-masakari/ need (resources/extensions/). */
  extensions?: ExtensionDeps;
  /** Request counts and latency by route (default: none, and no middleware at all). */
  metrics?: ApiMetrics;
  /** The web dashboard at /dashboard (src/core/dashboard/, docs/dashboard.md). */
  dashboard?: {
    /** Keystone password login for the dashboard's form (keystone only). */
    login?: PasswordLogin;
    /** Tests only: wraps the dashboard's in-process API calls (a stand-in for an extension not built yet). */
    wrapApi?: (inner: ApiFetch) => ApiFetch;
  };
  /** The protection report and heartbeat intake (docs/protection.md); default: one without fencing readiness. */
  protection?: ProtectionApiDeps;
}

export type ApiApp = Hono<ApiEnv>;

export function createApiApp(deps: ApiDeps): ApiApp {
  const api = deps.config.api;
  const log = deps.log.child({ component: 'api' });
  const env = deps.env ?? realEnv;
  const policy = new PolicyEnforcer(api.policy);
  const d: ResourceDeps = {
    store: deps.store,
    hostCatalog: deps.hostCatalog,
    env,
    log,
    policy,
    maxLimit: api.osapi_max_limit,
    duplicateWindowMs: deps.config.engine.duplicate_notification_detection_interval * 1000,
    responseCache: new ResponseCache(),
    publish: publisherOf(deps.bus),
    ...(deps.onNotificationAccepted ? { onNotificationAccepted: deps.onNotificationAccepted } : {}),
  };

  // Resource routes under /v1; /v1/{project_id}/... reaches them too (routing-path.ts).
  const versions = versionDocuments({ parseProxyHeaders: api.enable_proxy_headers_parsing });
  const v1 = new Hono<ApiEnv>();
  v1.use('*', microversion);
  v1.get('/', versions.v1);
  segmentRoutes(v1, d);
  hostRoutes(v1, d);
  notificationRoutes(v1, d);
  vmoveRoutes(v1, d);
  extensionRoutes(v1, d, {
    ...deps.extensions,
    events: {
      store: deps.store,
      ...(deps.eventFeed ? { feed: deps.eventFeed } : {}),
      heartbeatMs: deps.config.events.heartbeat_seconds * 1000,
      pollMs: deps.config.events.poll_seconds * 1000,
    },
  });
  protectionRoutes(v1, d, deps.protection ?? { service: new ProtectionService({ store: deps.store, config: deps.config, env, log: deps.log }) });

  const app = new Hono<ApiEnv>({ router: new RegExpRouter(), getPath: routingPath });
  app.use('*', requestId(env), accessLog(log, { parseProxyHeaders: api.enable_proxy_headers_parsing }));
  if (deps.metrics) app.use('*', requestMetrics(deps.metrics));
  app.onError(onError(log));
  app.notFound(notFound);
  app.get('/', versions.root);
  const auth = authenticate(api.auth_strategy, { ...(deps.tokenValidator ? { validator: deps.tokenValidator } : {}), policy, log });
  // '/v1/*' also matches '/v1' itself (registering both would run auth twice).
  app.use('/v1/*', declaredSizeLimit(api.max_request_body_size), auth, readBody(api.max_request_body_size));
  app.route('/v1', v1);
  // The dashboard calls this very app in process (no socket), with the viewer's token, for every read and change.
  const inProcess: ApiFetch = async (req) => app.fetch(req);
  app.route(
    '/dashboard',
    dashboardApp({
      api: deps.dashboard?.wrapApi ? deps.dashboard.wrapApi(inProcess) : inProcess,
      strategy: api.auth_strategy,
      policy,
      validator: deps.tokenValidator,
      login: deps.dashboard?.login,
      log,
      env,
      trustProxy: api.enable_proxy_headers_parsing,
    }),
  );
  app.get('*', versions.multipleChoices);
  return app;
}

export { startApiServer, type RunningApi } from './server.ts';
