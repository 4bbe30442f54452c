// IPMI through ipmitool: `ipmitool -I lanplus -C 3 -H host -p port -U user -E chassis power status|off|on`.
// The password goes in the IPMI_PASSWORD environment variable (-E), which only root and the same user can read
// (/proc/PID/environ), never in argv, which every user sees in `ps`.
// -v is always passed: without it ipmitool says "Unable to establish IPMI v2 / RMCP+ session" for a wrong password
// and for a BMC that does not answer alike; with it, the line before tells them apart ("RAKP 2 HMAC is invalid"
// versus "Get Auth Capabilities error").

import type { PowerState } from '../../../core/ports/fence.ts';
import type { IpmiFenceHostConfig } from '../../../core/config/sections/fencing.ts';
import type { Attempt, PowerBackend, PowerTarget } from '../backend.ts';
import { FenceError } from '../errors.ts';
import { tail } from '../redact.ts';
import { runProgram, type RunResult } from '../run.ts';

export type IpmiOptions = Pick<
  IpmiFenceHostConfig,
  'address' | 'port' | 'interface' | 'cipher_suite' | 'privilege' | 'command' | 'session_timeout_seconds' | 'session_retries' | 'username'
>;

const AUTH_PATTERNS = [
  /RAKP \d HMAC is invalid/i,
  /RAKP \d message indicates an error : (unauthorized name|invalid password|.*privilege)/i,
  /unauthorized name/i,
  /Activate Session error/i,
  /invalid (user ?name|password)/i,
  /insufficient privilege/i,
];
const CIPHER_PATTERNS = [
  /invalid authentication algorithm/i,
  /invalid integrity algorithm/i,
  /invalid confidentiality algorithm/i,
  /no matching cipher suite/i,
];
const UNREACHABLE_PATTERNS = [
  /Get Auth Capabilities error/i,
  /Error issuing Get Channel Authentication Capabilities/i,
  /No response from remote controller/i,
  /Address lookup for .* failed/i,
  /Unable to establish (IPMI v2 \/ RMCP\+|IPMI v1\.5 \/ RMCP|LAN) session/i,
  /connection refused|network is unreachable|no route to host/i,
];

/** Lines worth quoting from ipmitool's output: not the noise -v adds. */
function summary(r: RunResult): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .map((l) => l.replace(/^>+ ?/, ''))
    .filter((l) => l && !/^Loading IANA PEN Registry/.test(l));
  return tail(lines.join(' | '));
}

export class IpmitoolBackend implements PowerBackend {
  readonly kind = 'ipmi' as const;
  readonly describe: string;
  readonly checksBeforeActing = false;

  constructor(private readonly o: IpmiOptions) {
    const addr = o.address.includes(':') ? `[${o.address}]` : o.address;
    this.describe = `ipmi ${addr}:${o.port} ${o.interface}${o.interface === 'lanplus' ? ` cipher ${o.cipher_suite}` : ''}`;
  }

  /** argv without the password (it travels in the environment). */
  args(sub: string[], withPassword: boolean): string[] {
    const o = this.o;
    const a = ['-v', '-I', o.interface, '-H', o.address, '-p', String(o.port), '-N', String(o.session_timeout_seconds), '-R', String(o.session_retries)];
    if (o.interface === 'lanplus') a.push('-C', String(o.cipher_suite));
    if (o.privilege) a.push('-L', o.privilege.toUpperCase());
    if (o.username) a.push('-U', o.username);
    if (withPassword) a.push('-E');
    return [...a, ...sub];
  }

  private async run(sub: string[], at: Attempt): Promise<RunResult> {
    // ipmitool's own resends (-N × -R) must fit in our attempt timeout, or we would kill it mid-way and report a
    // timeout where it would have said "unreachable".
    const r = await runProgram(this.o.command, this.args(sub, at.password !== ''), {
      env: at.password !== '' ? { IPMI_PASSWORD: at.password } : {},
      timeoutMs: at.timeoutMs,
      signal: at.signal,
    });
    if (r.code === 0) return r;
    throw this.classify(r, sub.join(' '));
  }

  classify(r: RunResult, what: string): FenceError {
    const text = `${r.stderr}\n${r.stdout}`;
    const said = summary(r);
    const exit = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    if (AUTH_PATTERNS.some((p) => p.test(text))) {
      return new FenceError('auth', `BMC rejected the credentials${this.o.username ? ` of user ${this.o.username}` : ''} (ipmitool ${what}, ${exit}: ${said})`);
    }
    if (CIPHER_PATTERNS.some((p) => p.test(text))) {
      return new FenceError(
        'config',
        `BMC does not accept cipher suite ${this.o.cipher_suite}; set cipher_suite to one it supports (ipmitool ${what}, ${exit}: ${said})`,
      );
    }
    if (UNREACHABLE_PATTERNS.some((p) => p.test(text))) {
      return new FenceError('unreachable', `no answer from the BMC (ipmitool ${what}, ${exit}: ${said})`);
    }
    return new FenceError('failed', `ipmitool ${what} failed (${exit}: ${said || 'no output'})`);
  }

  async status(at: Attempt): Promise<PowerState> {
    const r = await this.run(['chassis', 'power', 'status'], at);
    const m = /Chassis Power is (on|off)\b/i.exec(r.stdout);
    if (!m) throw new FenceError('protocol', `unexpected answer to 'chassis power status': ${tail(r.stdout) || 'no output'}`);
    return m[1]!.toLowerCase() as PowerState;
  }

  async setPower(target: PowerTarget, at: Attempt): Promise<string> {
    const r = await this.run(['chassis', 'power', target], at);
    const m = /Chassis Power Control: [^\n]*/i.exec(r.stdout);
    return m ? m[0].trim() : `ipmitool exit 0: ${tail(r.stdout) || 'no output'}`;
  }
}
