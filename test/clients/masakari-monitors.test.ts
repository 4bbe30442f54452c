// Debian's Python masakari-monitors (14.0.0, unchanged) against our controller, found through the Keystone catalog
// of the OpenStack lab: operators who switch the controller first keep their Python monitors for a while.
//
// The lab's Keystone gets an `instance-ha` service with one endpoint per region: `…/v1` and `…/v1/$(tenant_id)s`
// for each controller, so every monitor runs once against each form (`[api] region` picks the endpoint). Two
// controllers run in this process, each with Keystone auth against the lab:
// - one with the Nova driver: masakari-processmonitor watches a throwaway `nova-compute` (a copy of /bin/sleep)
//   and, when it is killed and its restart command fails, reports PROCESS/STOPPED; the controller disables that
//   host's real nova-compute service in the lab's Nova, as Masakari's process-failure flow does;
// - one with the libvirt driver on the private libvirtd (test/labs/libvirt): masakari-instancemonitor sees a
//   domain's QEMU die (SIGKILL) and reports VM LIFECYCLE/STOPPED_FAILED; the controller restarts the domain.
// Each monitor is its own process, run as Debian ships it (`/usr/bin/masakari-*monitor --config-file F`); the
// process monitor, which always reports socket.gethostname(), runs in its own UTS namespace named after the Nova
// host it watches. docs/compatibility.md ("Keeping masakari-monitors") shows the configuration used here.

import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { libvirtAvailable, LibvirtConnection } from '../../src/drivers/libvirt/index.ts';
import * as controller from '../../src/roles/controller.ts';
import { LibvirtLab, libvirtLabAvailable } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';
import { labUnavailableReason, startLab, type OpenStackLab } from '../labs/openstack/lab.ts';
import { waitFor } from '../support/cli.ts';
import { haveCommand, requireComponent } from '../support/components.ts';

const PROCESS_MONITOR = '/usr/bin/masakari-processmonitor';
const INSTANCE_MONITOR = '/usr/bin/masakari-instancemonitor';
const monitorsInstalled = () => existsSync(PROCESS_MONITOR) && existsSync(INSTANCE_MONITOR) && existsSync('/usr/lib/python3/dist-packages/masakarimonitors');
const COMPONENT = 'Debian masakari-process-monitor + masakari-instance-monitor, the OpenStack lab and the libvirt lab (root)';
const available = () =>
  monitorsInstalled() && labUnavailableReason() === null && libvirtLabAvailable() && libvirtAvailable() && haveCommand('virsh') && haveCommand('unshare');

/** The two endpoint forms operators register for Masakari (the second is what devstack registers). */
const FORMS = [
  { name: 'plain', suffix: '/v1' },
  { name: 'tenant', suffix: '/v1/$(tenant_id)s' },
] as const;
type Form = (typeof FORMS)[number]['name'];

const KVM_HOST = 'pymon-kvm';
const DONE = ['finished', 'error', 'failed', 'ignored'];

interface Ctl {
  ctl: controller.RunningController;
  base: string;
  /** JSON log lines of this controller (its access log shows the path each monitor used). */
  lines: string[];
}

describe('Debian masakari-monitors against our controller through the Keystone catalog', { timeout: 600_000 }, () => {
  const ok = available();
  let os: OpenStackLab | undefined;
  let lv: LibvirtLab | undefined;
  let dir = '';
  let token = '';
  let projectId = '';
  const ctls: Record<'nova' | 'libvirt', Ctl | undefined> = { nova: undefined, libvirt: undefined };
  const children: ChildProcess[] = [];
  const daemons: ChildProcess[] = [];
  const started = Date.now();
  // The monitors and daemons run detached (own process groups): if this process dies without after(), end them too.
  const killAll = () => {
    for (const c of [...children, ...daemons]) killGroup(c);
  };
  process.on('exit', killAll);

  before(async () => {
    if (!ok) return;
    dir = mkdtempSync(join(tmpdir(), 'pymon-'));
    // Both labs at once; if one fails, the other is still kept for after() to stop.
    const [o, l] = await Promise.allSettled([startLab({ computes: 2 }), LibvirtLab.start()]);
    if (o.status === 'fulfilled') os = o.value;
    if (l.status === 'fulfilled') lv = l.value;
    if (o.status === 'rejected') throw o.reason;
    if (l.status === 'rejected') throw l.reason;
    const lab = o.value;
    const libvirtLab = l.value;
    token = await keystoneToken(lab);
    projectId = (await ks(lab, token, 'GET', `/projects?name=${lab.env.OS_PROJECT_NAME}`)).projects[0].id;
    ctls.nova = await startCtl(lab, 'nova', { controller: { compute_driver: 'nova' }, openstack: lab.config() });
    ctls.libvirt = await startCtl(lab, 'libvirt', {
      controller: { compute_driver: 'libvirt' },
      libvirt_compute: { hosts: { [KVM_HOST]: { uri: libvirtLab.uri } }, ha_enabled_default: true, inventory_interval: 0 },
    });
    // The catalog: one instance-ha service, one region per (controller, form).
    const svc = (await ks(lab, token, 'POST', '/services', { service: { type: 'instance-ha', name: 'masakari' } })).service;
    for (const [kind, c] of Object.entries(ctls)) {
      for (const f of FORMS) {
        const region = `pymon-${kind}-${f.name}`;
        await ks(lab, token, 'POST', '/regions', { region: { id: region } });
        await ks(lab, token, 'POST', '/endpoints', {
          endpoint: { service_id: svc.id, interface: 'public', region_id: region, url: `http://127.0.0.1:${c!.ctl.port}${f.suffix}` },
        });
      }
    }
  });

  after(async () => {
    killAll();
    process.removeListener('exit', killAll);
    for (const c of Object.values(ctls)) await c?.ctl.stop();
    await lv?.stop();
    os?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`# masakari-monitors.test.ts: ${Math.round((Date.now() - started) / 1000)} s including the labs`);
  });

  async function startCtl(lab: OpenStackLab, kind: 'nova' | 'libvirt', overrides: Record<string, unknown>): Promise<Ctl> {
    const { auth_url, username, password, project_name } = lab.config();
    const lines: string[] = [];
    const log = createLogger('info', 'json', { write: (l: string) => void lines.push(l) });
    const config = loadConfig({
      env: {},
      overrides: {
        data_dir: mkdtempSync(join(dir, `ctl-${kind}-`)),
        database: { auto_migrate: true },
        api: { listen: '127.0.0.1:0', auth_strategy: 'keystone', keystone: { auth_url, username, password, project_name } },
        engine: { verify_interval: 0.5, wait_period_after_service_update: 60 },
        ...overrides,
      },
    });
    const ctl = await controller.start(config, log);
    return { ctl, base: `http://127.0.0.1:${ctl.port}/v1`, lines };
  }

  /** A config file for a monitor: [api] finds the controller in the lab's catalog, in the region of `form`. */
  function monitorConf(kind: 'nova' | 'libvirt', form: Form, name: string, sections: string): string {
    const e = os!.env;
    const file = join(dir, `${name}.conf`);
    writeFileSync(
      file,
      `[DEFAULT]
debug = true
log_file = ${join(dir, `${name}.log`)}
${sections}
[api]
region = pymon-${kind}-${form}
api_interface = public
auth_type = password
auth_url = ${os!.authUrl}
username = ${e.OS_USERNAME}
password = ${os!.password}
project_name = ${e.OS_PROJECT_NAME}
user_domain_name = Default
project_domain_name = Default
`,
    );
    return file;
  }

  const monitorLog = (name: string) => {
    try {
      return readFileSync(join(dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  };

  /** Starts a monitor in its own process group (so after() can kill it and the commands it runs). */
  function startMonitor(cmd: string, args: string[]): ChildProcess {
    const c = spawn(cmd, args, { detached: true, stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, LANG: 'C.UTF-8' } });
    children.push(c);
    return c;
  }

  async function api(c: Ctl, method: string, path: string, body?: unknown): Promise<any> {
    const r = await fetch(`${c.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': token, 'openstack-api-version': 'instance-ha 1.1' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : {};
  }

  async function segmentWithHosts(c: Ctl, name: string, hosts: string[]): Promise<string> {
    const seg = (await api(c, 'POST', '/segments', { segment: { name, recovery_method: 'auto', service_type: 'COMPUTE' } })).segment;
    for (const h of hosts) await api(c, 'POST', `/segments/${seg.uuid}/hosts`, { host: { name: h, type: 'COMPUTE', control_attributes: 'SSH' } });
    return seg.uuid as string;
  }

  /** The one notification of `type` for `host`, once it reached a final status. */
  async function processed(c: Ctl, type: string, host: string, what: string, log: () => string): Promise<any> {
    const n = await waitFor(
      async () => {
        const list = (await api(c, 'GET', `/notifications?limit=100`)).notifications as any[];
        const mine = list.filter((x) => x.type === type && hostOf(c, x) === host);
        return mine.length && DONE.includes(mine[0].status) ? mine : undefined;
      },
      120_000,
      `${what}: a ${type} notification for ${host} processed\n--- monitor log ---\n${log().slice(-4000)}`,
    );
    assert.equal(n.length, 1, `one ${type} notification for ${host}: ${JSON.stringify(n)}`);
    return (await api(c, 'GET', `/notifications/${n[0].notification_uuid}`)).notification;
  }

  const hostNames = new Map<string, string>();
  function hostOf(_c: Ctl, n: { source_host_uuid: string }): string | undefined {
    return hostNames.get(n.source_host_uuid);
  }
  async function rememberHosts(c: Ctl, segment: string): Promise<void> {
    for (const h of (await api(c, 'GET', `/segments/${segment}/hosts`)).hosts) hostNames.set(h.uuid, h.name);
  }

  /** The access-log paths of POSTed notifications: which endpoint form the monitor used. */
  const notificationPosts = (c: Ctl) =>
    c.lines
      .map((l) => JSON.parse(l) as { msg?: string; method?: string; path?: string; status?: number })
      .filter((o) => o.msg === 'request' && o.method === 'POST' && /\/notifications$/.test(o.path ?? ''))
      .map((o) => `${o.path} ${o.status}`);
  const allRequests = (c: Ctl) =>
    c.lines
      .map((l) => JSON.parse(l) as { msg?: string; method?: string; path?: string; status?: number })
      .filter((o) => o.msg === 'request')
      .map((o) => `${o.method} ${o.path} ${o.status}`)
      .join('\n');
  const expectedPath = (form: Form) => (form === 'plain' ? '/v1/notifications' : `/v1/${projectId}/notifications`);

  test('masakari-processmonitor: a killed nova-compute is stored and its Nova service disabled, with both endpoint forms', async (t) => {
    if (!requireComponent(t, COMPONENT, ok)) return;
    const c = ctls.nova!;
    // Keystone auth is in force: what the monitors post below is accepted only with their token.
    assert.equal((await fetch(`${c.base}/notifications`)).status, 401);
    const [h1, h2] = os!.hosts as [string, string];
    const seg = await segmentWithHosts(c, 'pymon-process', [h1, h2]);
    await rememberHosts(c, seg);
    for (const [i, form] of (['plain', 'tenant'] as const).entries()) {
      const host = [h1, h2][i]!;
      const name = `processmonitor-${form}`;
      // The watched "nova-compute": a copy of /bin/sleep under a path only this run uses (the monitor greps `ps -ef`).
      const daemonPath = join(mkdtempSync(join(dir, `${host}-`)), 'nova-compute');
      copyFileSync('/bin/sleep', daemonPath);
      const daemon = spawn(daemonPath, ['3600'], { detached: true, stdio: 'ignore' });
      daemons.push(daemon);
      const list = join(dir, `${name}-process_list.yaml`);
      writeFileSync(
        list,
        `-
    process_name: ${daemonPath}
    start_command: /bin/true
    pre_start_command:
    post_start_command:
    restart_command: /bin/false
    pre_restart_command:
    post_restart_command:
    run_as_root: False
`,
      );
      const conf = monitorConf(
        'nova',
        form,
        name,
        `[process]\nprocess_list_path = ${list}\ncheck_interval = 1\nrestart_retries = 0\nrestart_interval = 0\napi_retry_max = 3\napi_retry_interval = 2\n`,
      );
      // masakari-processmonitor reports socket.gethostname(): give it the Nova host's name in a UTS namespace.
      const mon = startMonitor('unshare', ['--uts', '--', '/bin/sh', '-c', 'hostname "$0" && exec "$1" --config-file "$2"', host, PROCESS_MONITOR, conf]);
      await waitFor(
        async () => (monitorLog(name).includes(`Process '${daemonPath}' is found.`) ? true : undefined),
        60_000,
        `${name} watching ${daemonPath}\n${monitorLog(name)}`,
      );
      const killedAt = Date.now();
      daemon.kill('SIGKILL');

      const n = await processed(c, 'PROCESS', host, name, () => monitorLog(name));
      assert.equal(n.status, 'finished', JSON.stringify(n));
      assert.deepEqual(n.payload, { event: 'STOPPED', process_name: 'nova-compute' });
      assert.deepEqual(
        (n.recovery_workflow_details as { name: string; state: string }[]).map((x) => `${x.name}:${x.state}`),
        ['DisableComputeNodeTask:SUCCESS', 'ConfirmComputeNodeDisabledTask:SUCCESS'],
      );
      assert.ok(notificationPosts(c).includes(`${expectedPath(form)} 202`), `${form} form used: ${notificationPosts(c).join(', ')}\n${allRequests(c)}`);
      // What Masakari would have done: the host's nova-compute disabled in Nova, the host on maintenance.
      const svc = (await nova(os!, token, `/os-services?host=${host}&binary=nova-compute`)).services[0];
      assert.equal(svc.status, 'disabled', JSON.stringify(svc));
      const hosts = (await api(c, 'GET', `/segments/${seg}/hosts`)).hosts as { name: string; on_maintenance: boolean }[];
      assert.equal(hosts.find((x) => x.name === host)!.on_maintenance, true);
      t.diagnostic(`${form}: kill to processed in ${Date.now() - killedAt} ms`);
      killGroup(mon);
    }
  });

  test('masakari-instancemonitor: a QEMU killed with SIGKILL is stored and the domain restarted, with both endpoint forms', async (t) => {
    if (!requireComponent(t, COMPONENT, ok)) return;
    const c = ctls.libvirt!;
    const seg = await segmentWithHosts(c, 'pymon-instance', [KVM_HOST]);
    await rememberHosts(c, seg);
    const conn = LibvirtConnection.open(lv!.uri);
    const virsh = (...args: string[]) => execFileSync('virsh', ['-q', '-c', lv!.uri, ...args], { encoding: 'utf8', timeout: 30_000 }).trim();
    try {
      for (const [i, form] of (['plain', 'tenant'] as const).entries()) {
        const dom = { name: `pymon-vm-${form}`, uuid: `5e1f0a00-0000-4000-8000-00000000000${i + 1}` };
        conn.defineXML(tinyDomainXml(dom)).free();
        virsh('start', dom.name);
        const name = `instancemonitor-${form}`;
        const conf = monitorConf(
          'libvirt',
          form,
          name,
          `hostname = ${KVM_HOST}\n[libvirt]\nconnection_uri = ${lv!.uri}\n[callback]\nretry_max = 3\nretry_interval = 2\n`,
        );
        const mon = startMonitor(INSTANCE_MONITOR, ['--config-file', conf]);
        // Subscribed once it logs an event: define and undefine a probe domain until it does (events it ignores).
        let probes = 0;
        await waitFor(
          async () => {
            if (monitorLog(name).includes('libvirt Event Received')) return true;
            const probe = { name: `pymon-probe-${form}-${probes++}`, uuid: `5e1f0a00-0000-4000-8000-0000000001${String(probes).padStart(2, '0')}` };
            conn.defineXML(tinyDomainXml(probe)).free();
            virsh('undefine', probe.name);
            await new Promise((r) => setTimeout(r, 500));
            return undefined;
          },
          60_000,
          `${name} subscribed to libvirt events\n${monitorLog(name)}`,
        );
        const qemu = lv!.qemuPid(dom.name);
        assert.ok(qemu, `QEMU of ${dom.name} runs`);
        const killedAt = Date.now();
        process.kill(qemu, 'SIGKILL');

        const n = await waitFor(
          async () => {
            const list = (await api(c, 'GET', '/notifications?limit=100')).notifications as any[];
            const mine = list.filter((x) => x.type === 'VM' && x.payload.instance_uuid === dom.uuid);
            return mine.length && DONE.includes(mine[0].status) ? mine : undefined;
          },
          120_000,
          `${name}: a VM notification for ${dom.uuid} processed\n${monitorLog(name).slice(-4000)}`,
        );
        assert.equal(n.length, 1, JSON.stringify(n));
        const full = (await api(c, 'GET', `/notifications/${n[0].notification_uuid}`)).notification;
        assert.equal(full.status, 'finished', JSON.stringify(full));
        assert.equal(hostOf(c, full), KVM_HOST);
        assert.deepEqual(full.payload, { event: 'LIFECYCLE', instance_uuid: dom.uuid, vir_domain_event: 'STOPPED_FAILED' });
        assert.deepEqual(
          (full.recovery_workflow_details as { name: string; state: string }[]).map((x) => `${x.name}:${x.state}`),
          ['StopInstanceTask:SUCCESS', 'StartInstanceTask:SUCCESS', 'ConfirmInstanceActiveTask:SUCCESS'],
        );
        assert.ok(notificationPosts(c).includes(`${expectedPath(form)} 202`), `${form} form used: ${notificationPosts(c).join(', ')}\n${allRequests(c)}`);
        // Recovered: the domain runs again, in a new QEMU.
        assert.equal(virsh('domstate', dom.name), 'running');
        const again = lv!.qemuPid(dom.name);
        assert.ok(again && again !== qemu, `a new QEMU (${again}, was ${qemu})`);
        t.diagnostic(`${form}: kill to processed in ${Date.now() - killedAt} ms`);
        killGroup(mon);
      }
    } finally {
      conn.close();
    }
  });
});

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

async function keystoneToken(lab: OpenStackLab): Promise<string> {
  const e = lab.env;
  const r = await fetch(`${lab.authUrl.replace(/\/+$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: e.OS_USERNAME, domain: { name: 'Default' }, password: lab.password } } },
        scope: { project: { name: e.OS_PROJECT_NAME, domain: { name: 'Default' } } },
      },
    }),
  });
  assert.equal(r.status, 201, await r.text());
  return r.headers.get('x-subject-token')!;
}

async function ks(lab: OpenStackLab, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${lab.authUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  assert.ok(r.ok, `Keystone ${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function nova(lab: OpenStackLab, token: string, path: string): Promise<any> {
  const r = await fetch(`${lab.novaUrl.replace(/\/+$/, '')}${path}`, { headers: { 'x-auth-token': token, 'openstack-api-version': 'compute 2.53' } });
  const text = await r.text();
  assert.ok(r.ok, `Nova GET ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}
