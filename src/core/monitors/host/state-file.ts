// Keeps the host monitor's memory (decide.ts's HostMonitorState) across restarts of the agent. Without it, a
// restart during a failure would re-learn the failed peer as "first seen offline" and never report it (the
// masakari-hostmonitor behaviour). Written atomically (temporary file + rename), read leniently: a missing or
// unreadable file only means starting with an empty memory, which is logged.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AppError, errorMessage } from '../../errors.ts';
import type { HostMonitorState, NodeCondition, PeerMemory } from './decide.ts';

/** The state file is there but cannot be used; the host monitor logs it and starts with an empty memory. */
export class HostMonitorStateError extends AppError {
  readonly code = 'HOST_MONITOR_STATE_UNUSABLE';
}

const CONDITIONS: readonly NodeCondition[] = ['online', 'offline', 'unclean', 'joining', 'leaving', 'maintenance'];

function validPeer(v: unknown): v is PeerMemory {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    Array.isArray(p.samples) &&
    p.samples.every((s) => CONDITIONS.includes(s as NodeCondition)) &&
    (p.reported === null || p.reported === 'online' || p.reported === 'offline') &&
    (p.fenceKeysWhileUp === null || (Array.isArray(p.fenceKeysWhileUp) && p.fenceKeysWhileUp.every((k) => typeof k === 'string')))
  );
}

/** The saved state, or null when there is none; throws with the reason when the file is there but unusable. */
export function loadHostMonitorState(path: string): HostMonitorState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new HostMonitorStateError(`cannot read ${path}: ${errorMessage(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new HostMonitorStateError(`${path} is not JSON`);
  }
  const peers = (doc as { peers?: unknown } | null)?.peers;
  if (typeof peers !== 'object' || peers === null || Array.isArray(peers)) throw new HostMonitorStateError(`${path} has no "peers" object`);
  const out: HostMonitorState = { peers: {} };
  for (const [name, mem] of Object.entries(peers)) {
    if (!validPeer(mem)) throw new HostMonitorStateError(`${path}: the entry for ${name} is not a valid peer record`);
    out.peers[name] = mem;
  }
  return out;
}

export function saveHostMonitorState(path: string, state: HostMonitorState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}
