// Any fence-agents program (fence_ipmilan, fence_redfish, fence_virsh, ...), driven through the fence-agents API
// (https://github.com/ClusterLabs/fence-agents/blob/main/doc/FenceAgentAPI.md): options as key=value lines on
// stdin, so the password never appears in argv; exit status 0 = success, and for action=status 0 = on, 2 = off,
// anything else = error. The agent checks the state itself before acting and waits for the result, so no separate
// status query precedes its power command (checksBeforeActing).

import type { PowerState } from '../../../core/ports/fence.ts';
import type { AgentFenceHostConfig } from '../../../core/config/sections/fencing.ts';
import type { Attempt, PowerBackend, PowerTarget } from '../backend.ts';
import { FenceError } from '../errors.ts';
import { tail } from '../redact.ts';
import { runProgram, type RunResult } from '../run.ts';

export type AgentOptions = Pick<AgentFenceHostConfig, 'agent' | 'options' | 'username'>;

/**
 * The one-line reason an agent gives for failing. fence-agents log "YYYY-MM-DD hh:mm:ss,ms ERROR: Failed: ..." to
 * stderr amid Python warnings; a crash leaves a traceback whose last line is the exception.
 */
export function agentReason(r: RunResult): string {
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const useful = lines.filter((l) => !/Warning:|^from \w+ import|^import \w+|^warnings\.warn/.test(l));
  const errors = useful.filter((l) => /\b(ERROR|CRITICAL)\b|^Failed|^Error/.test(l)).map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:,]+ /, ''));
  if (errors.length) return tail(errors.join(' | '));
  if (useful.some((l) => l.startsWith('Traceback'))) return `agent crashed: ${tail(useful[useful.length - 1] ?? '')}`;
  return tail(useful.slice(-3).join(' | ')) || tail(r.stdout) || 'no output';
}

export class FenceAgentBackend implements PowerBackend {
  readonly kind = 'agent' as const;
  readonly describe: string;
  readonly checksBeforeActing = true;

  constructor(private readonly o: AgentOptions) {
    const name = o.agent.slice(o.agent.lastIndexOf('/') + 1);
    const opt = o.options;
    const where = opt.ip !== undefined ? ` ip=${opt.ip}${opt.ipport !== undefined ? `:${opt.ipport}` : ''}` : '';
    this.describe = `agent ${name}${where}`;
  }

  /** The agent's stdin. Values are single lines (the config schema refuses newlines). */
  stdin(action: string, password: string): string {
    const lines = [`action=${action}`];
    if (this.o.username) lines.push(`username=${this.o.username}`);
    if (password !== '') lines.push(`password=${password}`);
    for (const [k, v] of Object.entries(this.o.options)) {
      lines.push(`${k}=${v === true ? '1' : v === false ? '0' : String(v)}`);
    }
    return lines.join('\n') + '\n';
  }

  private run(action: string, at: Attempt): Promise<RunResult> {
    return runProgram(this.o.agent, [], { stdin: this.stdin(action, at.password), timeoutMs: at.timeoutMs, signal: at.signal });
  }

  private failure(action: string, r: RunResult): FenceError {
    const exit = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    // Agents do not report why in a machine-readable way: a wrong password and a dead BMC both end in exit 1 with
    // "Unable to obtain correct plug status". So this is 'failed' (retried), not 'auth'.
    return new FenceError('failed', `action=${action} failed (${exit}): ${agentReason(r)}`);
  }

  async status(at: Attempt): Promise<PowerState> {
    const r = await this.run('status', at);
    if (r.code === 0) return 'on';
    if (r.code === 2) return 'off';
    throw this.failure('status', r);
  }

  async setPower(target: PowerTarget, at: Attempt): Promise<string> {
    const r = await this.run(target, at);
    if (r.code !== 0) throw this.failure(target, r);
    return `action=${target} exit 0: ${tail(r.stdout, 120) || 'no output'}`;
  }
}
