// Redfish power control (DMTF DSP0266): the ComputerSystem's PowerState, and its #ComputerSystem.Reset action with
// ResetType ForceOff / On. The system is found the way fence_redfish finds it (service root -> Systems -> the one
// member) unless `system` names it. Authentication: HTTP basic on every request (default; every Redfish service must
// accept it), or `auth: session` for BMCs set to refuse basic auth: one session per status query or power command,
// logged out again at once, because BMCs allow only a few sessions and a leaked one can lock the next login out.
// Unlike fence_redfish, which crashes with KeyError 'Members' on a wrong password, a 401/403 is an 'auth' error.

import { readFile } from 'node:fs/promises';
import { errorCode } from '../../../core/errors.ts';
import type { PowerState } from '../../../core/ports/fence.ts';
import type { RedfishFenceHostConfig } from '../../../core/config/sections/fencing.ts';
import type { Attempt, PowerBackend, PowerTarget } from '../backend.ts';
import { FenceError } from '../errors.ts';
import { tail } from '../redact.ts';
import { redfishClient, type JsonResponse, type Method, type RequestJson } from './https.ts';

export type RedfishOptions = Pick<RedfishFenceHostConfig, 'url' | 'verify_tls' | 'ca_file' | 'system' | 'service_root' | 'username' | 'auth'>;
type AuthHeaders = Record<string, string>;

/** Upper bound on the session logout request: it must not hold up the fencing result. */
const LOGOUT_TIMEOUT_MS = 5000;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const RESET_TYPE: Record<PowerTarget, string> = { off: 'ForceOff', on: 'On' };

/** Redfish PowerState -> ours. Transitions count as unknown: "PoweringOff" is not yet fenced, "PoweringOn" not yet up. */
export function mapPowerState(v: unknown): PowerState | null {
  switch (v) {
    case 'On':
    case 'Paused': // The OS is suspended but holds its memory and disks: not fenced.
      return 'on';
    case 'Off':
      return 'off';
    case 'PoweringOn':
    case 'PoweringOff':
      return 'unknown';
    default:
      return null;
  }
}

/** The message a Redfish error body carries (error.message or its first extended info), if any. */
function redfishMessage(r: JsonResponse): string {
  const err = isObj(r.json) && isObj(r.json.error) ? r.json.error : null;
  if (err) {
    const ext: unknown = Array.isArray(err['@Message.ExtendedInfo']) ? err['@Message.ExtendedInfo'][0] : null;
    const m = isObj(ext) && typeof ext.Message === 'string' ? ext.Message : typeof err.message === 'string' ? err.message : null;
    if (m) return m;
  }
  return tail(r.text, 200) || 'empty body';
}

export class RedfishBackend implements PowerBackend {
  readonly kind = 'redfish' as const;
  readonly describe: string;
  readonly checksBeforeActing = false;
  private readonly base: URL;
  private systemPath: string | null;
  private client: RequestJson | null = null;

  constructor(private readonly o: RedfishOptions) {
    this.base = new URL(o.url);
    this.systemPath = o.system;
    this.describe = `redfish ${this.base.host}${o.verify_tls ? '' : ' (TLS not verified)'}`;
  }

  /** The JSON client with this BMC's TLS settings, made once ca_file has been read. */
  private async http(): Promise<RequestJson> {
    if (this.client) return this.client;
    let ca: string | undefined;
    if (this.o.ca_file) {
      try {
        ca = await readFile(this.o.ca_file, 'utf8');
      } catch (e) {
        throw new FenceError('config', `cannot read ca_file ${this.o.ca_file}: ${errorCode(e) ?? 'error'}`);
      }
    }
    this.client = redfishClient({ verify: this.o.verify_tls, ca });
    return this.client;
  }

  private url(path: string): URL {
    const url = new URL(path, this.base);
    // Never follow a BMC to another origin with our credentials: paths from its JSON are resolved against our base.
    if (url.origin !== this.base.origin) throw new FenceError('protocol', `BMC pointed to another origin (${url.origin}); refusing to send credentials there`);
    return url;
  }

  private async call(method: Method, path: string, at: Attempt, auth: AuthHeaders, body?: unknown): Promise<JsonResponse> {
    const url = this.url(path);
    const r = await (await this.http())(url, method, { headers: auth, body, timeoutMs: at.timeoutMs, signal: at.signal });
    const where = `${method} ${url.pathname}`;
    if (r.status === 401 || r.status === 403) {
      throw new FenceError('auth', `BMC rejected the credentials${this.o.username ? ` of user ${this.o.username}` : ''} (${where}: HTTP ${r.status})`);
    }
    if (r.status >= 500) throw new FenceError('protocol', `${where}: HTTP ${r.status}: ${redfishMessage(r)}`);
    if (r.status >= 300) throw new FenceError('failed', `${where}: HTTP ${r.status}: ${redfishMessage(r)}`);
    return r;
  }

  /** Runs `fn` with authentication headers: basic, or a fresh session that is logged out afterwards whatever happens. */
  private async authed<T>(at: Attempt, fn: (auth: AuthHeaders) => Promise<T>): Promise<T> {
    if (this.o.auth === 'basic') {
      return fn({ authorization: 'Basic ' + Buffer.from(`${this.o.username}:${at.password}`).toString('base64') });
    }
    const login = `${this.o.service_root}/SessionService/Sessions`;
    const r = await this.call('POST', login, at, {}, { UserName: this.o.username, Password: at.password });
    const token = r.headers.get('x-auth-token');
    if (!token) throw new FenceError('protocol', `POST ${login}: HTTP ${r.status} without an X-Auth-Token header`);
    const location = r.headers.get('location') ?? (isObj(r.json) && typeof r.json['@odata.id'] === 'string' ? r.json['@odata.id'] : null);
    try {
      return await fn({ 'x-auth-token': token });
    } finally {
      if (location) await this.logout(location, token);
    }
  }

  private async logout(location: string, token: string): Promise<void> {
    try {
      // No caller signal: even an aborted operation must not leave its session behind.
      await (
        await this.http()
      )(this.url(location), 'DELETE', { headers: { 'x-auth-token': token }, timeoutMs: LOGOUT_TIMEOUT_MS });
    } catch {
      // Best effort: the BMC expires idle sessions by itself.
    }
  }

  private async getObject(path: string, at: Attempt, auth: AuthHeaders): Promise<Json> {
    const r = await this.call('GET', path, at, auth);
    if (!isObj(r.json)) throw new FenceError('protocol', `GET ${path}: the answer is not a JSON object: ${tail(r.text, 120) || 'empty body'}`);
    return r.json;
  }

  private async system(at: Attempt, auth: AuthHeaders): Promise<string> {
    if (this.systemPath) return this.systemPath;
    const root = await this.getObject(this.o.service_root, at, auth);
    const systems = isObj(root.Systems) ? root.Systems['@odata.id'] : undefined;
    if (typeof systems !== 'string') throw new FenceError('protocol', `service root ${this.o.service_root} has no Systems link`);
    const coll = await this.getObject(systems, at, auth);
    const members = Array.isArray(coll.Members)
      ? coll.Members.map((m) => (isObj(m) ? m['@odata.id'] : undefined)).filter((x): x is string => typeof x === 'string')
      : null;
    if (!members) throw new FenceError('protocol', `${systems} has no Members list`);
    if (members.length === 0) throw new FenceError('protocol', `${systems} lists no ComputerSystem`);
    if (members.length > 1) {
      // Fencing the wrong machine is worse than not fencing: make the operator choose.
      throw new FenceError('config', `${systems} lists ${members.length} systems (${members.join(', ')}): set \`system\` to the one of this host`);
    }
    this.systemPath = members[0]!;
    return this.systemPath;
  }

  status(at: Attempt): Promise<PowerState> {
    return this.authed(at, async (auth) => {
      const path = await this.system(at, auth);
      const sys = await this.getObject(path, at, auth);
      const s = mapPowerState(sys.PowerState);
      if (s === null) throw new FenceError('protocol', `GET ${path}: PowerState is ${JSON.stringify(sys.PowerState) ?? 'missing'}`);
      return s;
    });
  }

  setPower(target: PowerTarget, at: Attempt): Promise<string> {
    return this.authed(at, (auth) => this.reset(target, at, auth));
  }

  private async reset(target: PowerTarget, at: Attempt, auth: AuthHeaders): Promise<string> {
    const path = await this.system(at, auth);
    const sys = await this.getObject(path, at, auth);
    const actions = isObj(sys.Actions) ? sys.Actions : {};
    const reset = isObj(actions['#ComputerSystem.Reset']) ? actions['#ComputerSystem.Reset'] : null;
    if (!reset || typeof reset.target !== 'string') throw new FenceError('protocol', `GET ${path}: no #ComputerSystem.Reset action`);
    const type = RESET_TYPE[target];
    const allowed = reset['ResetType@Redfish.AllowableValues'];
    if (Array.isArray(allowed) && !allowed.includes(type)) {
      throw new FenceError('config', `the BMC does not offer ResetType ${type} (it offers ${allowed.join(', ')})`);
    }
    const r = await this.call('POST', reset.target, at, auth, { ResetType: type });
    return `POST ${reset.target} {"ResetType":"${type}"}: HTTP ${r.status}`;
  }
}
