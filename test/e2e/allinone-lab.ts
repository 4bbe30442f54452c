// Shared set-up of the all-in-one end-to-end tests: a private libvirtd + QEMU (test/labs/libvirt), tiny domains,
// `masakari --role=all` as a child process against it, and small API helpers. Everything is stopped in after().

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { LibvirtLab } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';
import { startCli, waitFor } from '../support/cli.ts';
import { LibvirtConnection } from '../../src/drivers/libvirt/index.ts';

export const NS = 'http://masakari.dev/xmlns/libvirt/1.0';
export const HOST = 'lab-host';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Notif {
  notification_uuid: string;
  status: string;
  payload: Record<string, string>;
  recovery_workflow_details?: { name: string; state: string; progress: number; progress_details: { message: string; progress: number }[] }[];
}

export class AllInOne {
  readonly dir: string;
  readonly base: string;
  private child: ReturnType<typeof startCli> | null = null;
  conn: LibvirtConnection | null = null;

  private constructor(
    readonly lab: LibvirtLab,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'masakari-allinone-'));
    this.base = `http://127.0.0.1:${port}/v1`;
  }

  static async start(): Promise<AllInOne> {
    const lab = await LibvirtLab.start();
    return new AllInOne(lab, await freePort());
  }

  /** Defines and starts a tiny persistent domain; `ha` marks it with `virsh metadata`, as docs/lab.md does. */
  defineDomain(name: string, uuid: string, ha: boolean): void {
    const c = (this.conn ??= LibvirtConnection.open(this.lab.uri));
    c.defineXML(tinyDomainXml({ name, uuid })).free();
    this.virsh('start', name);
    if (ha) this.virsh('metadata', name, '--uri', NS, '--key', 'masakari', '--set', '<ha enabled="true"/>', '--live', '--config');
  }

  virsh(...args: string[]): string {
    return execFileSync('virsh', ['-q', '-c', this.lab.uri, ...args], { encoding: 'utf8', timeout: 30_000 });
  }

  domainState(name: string): string {
    return this.virsh('domstate', name).trim();
  }

  /** Defines and starts a persistent domain from its XML (e.g. the real guest of test/labs/guest). */
  defineDomainXml(name: string, xml: string, ha: boolean): void {
    const c = (this.conn ??= LibvirtConnection.open(this.lab.uri));
    c.defineXML(xml).free();
    this.virsh('start', name);
    if (ha) this.virsh('metadata', name, '--uri', NS, '--key', 'masakari', '--set', '<ha enabled="true"/>', '--live', '--config');
  }

  /**
   * Writes the configuration file and starts `masakari --role=all`; resolves once the API answers.
   * `libvirtYaml`: more keys of the libvirt section, e.g. `introspective_monitor: { enabled: true }`.
   */
  async startMasakari(extraYaml = '', env: Record<string, string> = {}, libvirtYaml = ''): Promise<void> {
    const cfg = join(this.dir, 'masakari.yaml');
    writeFileSync(
      cfg,
      `data_dir: ${this.dir}
log: { level: info, format: json }
api: { listen: "127.0.0.1:${this.port}" }
compute: { hostname: ${HOST} }
libvirt: { connection_uri: "${this.lab.uri}", reconnect_interval: 0.5${libvirtYaml ? `, ${libvirtYaml}` : ''} }
engine: { verify_interval: 0.2, process_unfinished_notifications_interval: 2, retry_notification_new_status_interval: 2 }
${extraYaml}
`,
    );
    this.child = startCli(['--role=all', '--config', cfg], env);
    await waitFor(async () => ((await fetch(`${this.base}/`).catch(() => null))?.ok ? true : undefined), 60_000, `masakari --role=all on ${this.port}`).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${this.output()}`);
      },
    );
  }

  output(): string {
    return this.child?.output() ?? '';
  }

  /** The running `masakari --role=all` process (shutdown tests signal it and close its pipes). */
  get masakari(): ReturnType<typeof startCli> {
    if (!this.child) throw new Error('masakari is not started');
    return this.child;
  }

  /** Resolves with how the process ended and after how long, or null when it is still running after `ms`. */
  async waitExit(ms: number): Promise<{ code: number | null; signal: string | null; ms: number } | null> {
    const child = this.masakari;
    const t0 = Date.now();
    if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode, ms: 0 };
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, ms: Date.now() - t0 });
      });
    });
  }

  async notifications(): Promise<Notif[]> {
    const r = await fetch(`${this.base}/notifications?sort_key=created_at&sort_dir=asc`);
    return ((await r.json()) as { notifications: Notif[] }).notifications;
  }

  async notification(uuid: string): Promise<Notif> {
    const r = await fetch(`${this.base}/notifications/${uuid}`, { headers: { 'OpenStack-API-Version': 'instance-ha 1.1' } });
    return ((await r.json()) as { notification: Notif }).notification;
  }

  /** Waits for the nth (0-based) notification to reach one of `statuses`. */
  async waitNotification(index: number, statuses: string[], ms = 60_000): Promise<Notif> {
    return waitFor(
      async () => {
        const n = (await this.notifications())[index];
        return n && statuses.includes(n.status) ? this.notification(n.notification_uuid) : undefined;
      },
      ms,
      `notification #${index} to reach ${statuses.join('|')}\n${this.output().slice(-4000)}`,
    );
  }

  /** kill -9 of the domain's QEMU; returns the killed PID. */
  killQemu(name: string): number {
    const pid = this.lab.qemuPid(name);
    if (pid === null) throw new Error(`${name} has no QEMU process`);
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  async waitRunning(name: string, notPid: number, ms = 60_000): Promise<number> {
    return waitFor(
      async () => {
        const pid = this.lab.qemuPid(name);
        return pid !== null && pid !== notPid && this.domainState(name) === 'running' ? pid : undefined;
      },
      ms,
      `${name} running again\n${this.output().slice(-4000)}`,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    this.conn?.close();
    await this.lab.stop();
    if (process.env.KEEP_TEST_LAB !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
