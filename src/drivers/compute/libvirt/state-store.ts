// What the controller has to remember about libvirt hosts because libvirt has no such thing: the "compute service"
// of each host (disabled + reason, forced down), per-server locks and reset states, which host a server was
// evacuated to, and each host's domains as last seen (XML included: the only way to start a dead host's VM
// elsewhere when its disks are shared but its definition is not).
// One JSON file, rewritten whole (write to a temp file, fsync, rename) whenever it changes: it is small (a few KiB
// per domain), changes rarely, and a crash leaves either the old or the new version, never a torn one.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage } from '../../../core/errors.ts';

export interface ServiceState {
  disabled: boolean;
  reason: string | null;
  forcedDown: boolean;
}

export interface ServerState {
  locked?: boolean;
  /** resetServerState('error') as Nova's reset-state does: shown until reset to active or (re)started. */
  resetToError?: boolean;
  /** After an evacuation: the host the server now belongs to (its old definition may still exist elsewhere). */
  home?: string;
}

export interface SeenDomain {
  name: string;
  /** Persistent (inactive) definition, secure flag included, as virDomainGetXMLDesc returned it. */
  xml: string;
  state: number;
  metadata: Record<string, string>;
  seenAt: string;
}

interface FileShape {
  version: 1;
  services: Record<string, ServiceState>;
  servers: Record<string, ServerState>;
  domains: Record<string, Record<string, SeenDomain>>;
}

const empty = (): FileShape => ({ version: 1, services: {}, servers: {}, domains: {} });

export class LibvirtStateStore {
  private data: FileShape;
  private lastWritten = '';

  /** `path` null: memory only (tests that do not care about restarts). */
  constructor(private readonly path: string | null) {
    this.data = empty();
    if (path === null) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let parsed: FileShape;
    try {
      parsed = JSON.parse(text) as FileShape;
    } catch (e) {
      throw new Error(`libvirt_compute.state_path ${path} is not valid JSON (${errorMessage(e)}); fix or remove it`, { cause: e });
    }
    if (parsed?.version !== 1) throw new Error(`libvirt_compute.state_path ${path}: unknown version ${String(parsed?.version)}`);
    this.data = { ...empty(), ...parsed };
    this.lastWritten = text;
  }

  service(host: string): ServiceState {
    return this.data.services[host] ?? { disabled: false, reason: null, forcedDown: false };
  }

  setService(host: string, s: ServiceState): void {
    this.data.services[host] = s;
    this.save();
  }

  server(id: string): ServerState {
    return this.data.servers[id] ?? {};
  }

  updateServer(id: string, patch: Partial<ServerState>): void {
    const next: ServerState = { ...this.server(id), ...patch };
    for (const k of Object.keys(next) as (keyof ServerState)[]) if (next[k] === undefined || next[k] === false) delete next[k];
    if (Object.keys(next).length === 0) delete this.data.servers[id];
    else this.data.servers[id] = next;
    this.save();
  }

  seen(host: string): Record<string, SeenDomain> {
    return this.data.domains[host] ?? {};
  }

  /** Replaces what we know of `host`'s domains with a fresh listing. */
  setSeen(host: string, domains: Record<string, SeenDomain>): void {
    this.data.domains[host] = domains;
    this.save();
  }

  seenOne(host: string, id: string, d: SeenDomain): void {
    this.data.domains[host] = { ...this.seen(host), [id]: d };
    this.save();
  }

  /** Writes the file when the content changed (seenAt stamps alone do not count: they change on every look). */
  private save(): void {
    if (this.path === null) return;
    const text = JSON.stringify(this.data);
    const key = text.replace(/"seenAt":"[^"]*"/g, '');
    if (key === this.lastWritten.replace(/"seenAt":"[^"]*"/g, '')) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.lastWritten = text;
  }
}
