// Keeps credentials out of everything a fencer emits. Output of external programs (ipmitool, fence agents) and
// BMC error bodies are not ours to trust: an agent may echo its stdin line ("Ignoring unknown option 'x=...'"),
// so every text that leaves a driver (error message, evidence, log field) goes through redact() first.

import { maskUrlCredentials } from '../../core/mask.ts';

export const REDACTED = '***';

export class Redactor {
  private readonly secrets: string[] = [];

  /** Registers a secret; empty strings are ignored (nothing to hide, and replacing '' would mangle every text). */
  add(secret: string | undefined | null): void {
    if (!secret) return;
    if (!this.secrets.includes(secret)) this.secrets.push(secret);
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = maskUrlCredentials(text); // a Redfish url may carry user:password@

    for (const s of this.secrets) out = out.split(s).join(REDACTED);
    return out;
  }

  /** Redacts an error's message and stack in place (keeping its class and code) and returns it. */
  redactError<E extends Error>(e: E): E {
    const msg = this.redact(e.message);
    if (msg === e.message) return e;
    e.message = msg;
    if (e.stack) e.stack = this.redact(e.stack);
    return e;
  }
}

/** Last `max` characters of a program's output, on one line, for error messages. */
export function tail(text: string, max = 300): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? '…' + one.slice(one.length - max) : one;
}
