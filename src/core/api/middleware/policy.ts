// Authorization with Masakari's policy rule names and oslo.policy's rule language (the subset operators use):
//   @ (always)  ! (never)  rule:<name>  role:<name>  is_admin:True|False  <field>:<value or %(target)s>
//   combined with and / or / not and parentheses.
// Rules are parsed once, when the enforcer is built; a rule that does not parse stops startup with its name.

import { MasakariError } from '../../domain/errors.ts';
import type { CallerContext } from '../context.ts';
import { AppError, errorMessage } from '../../errors.ts';

export const ADMIN_API = 'rule:admin_api';

/** Masakari's registered rules and their defaults (masakari/policies/*.py). */
export const DEFAULT_RULES: Readonly<Record<string, string>> = {
  context_is_admin: 'role:admin',
  admin_or_owner: 'is_admin:True or project_id:%(project_id)s',
  admin_api: 'is_admin:True',
  'os_masakari_api:extensions:index': 'rule:admin_api',
  'os_masakari_api:extensions:detail': 'rule:admin_api',
  'os_masakari_api:versions:index': '@',
  // Extensions (ours, under /v1/x-masakari/; docs/api.md): admin-only by default.
  'masakari_ext:whatif:get': ADMIN_API,
  'masakari_ext:events:get': ADMIN_API,
  ...Object.fromEntries(
    (
      [
        ['segments', ['index', 'detail', 'create', 'update', 'delete', 'discoverable']],
        ['os-hosts', ['index', 'detail', 'create', 'update', 'delete', 'discoverable']],
        ['notifications', ['index', 'detail', 'create', 'discoverable']],
        ['vmoves', ['index', 'detail', 'discoverable']],
      ] as const
    ).flatMap(([res, actions]) => actions.map((a) => [`os_masakari_api:${res}:${a}`, ADMIN_API])),
  ),
  // Our extensions (/v1/x-masakari/..., docs/api.md): admin only unless the operator says otherwise.
  'masakari_ext:heartbeats:create': ADMIN_API,
  'masakari_ext:heartbeats:index': ADMIN_API,
  'masakari_ext:protection:get': ADMIN_API,
  'masakari_ext:fencing_readiness:check': ADMIN_API,
};

export interface Credentials {
  user_id: string | null;
  project_id: string | null;
  roles: string[];
  is_admin: boolean;
}
type Target = Record<string, string | null>;

type Rule =
  { kind: 'true' } | { kind: 'false' } | { kind: 'not'; rule: Rule } | { kind: 'and' | 'or'; rules: Rule[] } | { kind: 'check'; field: string; match: string };

export class PolicyParseError extends AppError {
  readonly code = 'POLICY_RULE_INVALID';
}

/** Like oslo.policy: split on whitespace, then peel leading '(' and trailing ')' off each word (so %(x)s stays whole). */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (let word of text.trim().split(/\s+/).filter(Boolean)) {
    while (word.startsWith('(')) (out.push('('), (word = word.slice(1)));
    let closing = 0;
    while (word.endsWith(')') && !/%\(\w+\)$/.test(word)) (closing++, (word = word.slice(0, -1)));
    if (word) out.push(word);
    for (let i = 0; i < closing; i++) out.push(')');
  }
  return out;
}

/** Recursive descent: or < and < not < atom. */
export function parseRule(text: string): Rule {
  const tokens = tokenize(text);
  if (tokens.length === 0) return { kind: 'true' }; // oslo: an empty rule always passes
  let i = 0;
  const peek = () => tokens[i];
  const parseOr = (): Rule => {
    const rules = [parseAnd()];
    while (peek()?.toLowerCase() === 'or') {
      i++;
      rules.push(parseAnd());
    }
    return rules.length === 1 ? rules[0]! : { kind: 'or', rules };
  };
  const parseAnd = (): Rule => {
    const rules = [parseNot()];
    while (peek()?.toLowerCase() === 'and') {
      i++;
      rules.push(parseNot());
    }
    return rules.length === 1 ? rules[0]! : { kind: 'and', rules };
  };
  const parseNot = (): Rule => {
    if (peek()?.toLowerCase() === 'not') {
      i++;
      return { kind: 'not', rule: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): Rule => {
    const t = tokens[i++];
    if (t === undefined) throw new PolicyParseError('unexpected end of rule');
    if (t === '(') {
      const r = parseOr();
      if (tokens[i++] !== ')') throw new PolicyParseError("missing ')'");
      return r;
    }
    if (t === '@') return { kind: 'true' };
    if (t === '!') return { kind: 'false' };
    const colon = t.indexOf(':');
    if (colon <= 0) throw new PolicyParseError(`not a check: '${t}' (expected kind:value, @ or !)`);
    return { kind: 'check', field: t.slice(0, colon), match: t.slice(colon + 1) };
  };
  const rule = parseOr();
  if (i !== tokens.length) throw new PolicyParseError(`unexpected '${tokens[i]}'`);
  return rule;
}

/** The names a rule refers to with rule:NAME (for the configuration check: an undefined one denies silently). */
export function referencedRules(text: string): string[] {
  const out: string[] = [];
  const walk = (r: Rule): void => {
    if (r.kind === 'check' && r.field === 'rule') out.push(r.match);
    else if (r.kind === 'not') walk(r.rule);
    else if (r.kind === 'and' || r.kind === 'or') r.rules.forEach(walk);
  };
  walk(parseRule(text));
  return out;
}

const MAX_REMEMBERED_DECISIONS = 4096;

export class PolicyEnforcer {
  private readonly rules = new Map<string, Rule>();
  /** allows() answers for the default target, by action and caller (see allows). */
  private readonly decisions = new Map<string, boolean>();

  constructor(overrides: Record<string, string> = {}) {
    for (const [name, text] of Object.entries({ ...DEFAULT_RULES, ...overrides })) {
      try {
        this.rules.set(name, parseRule(text));
      } catch (e) {
        throw new PolicyParseError(`api.policy: rule "${name}" (${JSON.stringify(text)}) does not parse: ${errorMessage(e)}`, { cause: e });
      }
    }
  }

  private evaluate(rule: Rule, creds: Credentials, target: Target, depth: number): boolean {
    if (depth > 50) return false; // a rule that refers to itself
    switch (rule.kind) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.evaluate(rule.rule, creds, target, depth + 1);
      case 'and':
        return rule.rules.every((r) => this.evaluate(r, creds, target, depth + 1));
      case 'or':
        return rule.rules.some((r) => this.evaluate(r, creds, target, depth + 1));
      case 'check':
        return this.check(rule.field, rule.match, creds, target, depth);
    }
  }

  private check(field: string, match: string, creds: Credentials, target: Target, depth: number): boolean {
    if (field === 'rule') {
      const named = this.rules.get(match);
      return named ? this.evaluate(named, creds, target, depth + 1) : false;
    }
    if (field === 'role') return creds.roles.some((r) => r.toLowerCase() === match.toLowerCase());
    let expected: string;
    if (/^'.*'$/.test(match) || /^".*"$/.test(match)) expected = match.slice(1, -1);
    else {
      let missing = false;
      expected = match.replace(/%\((\w+)\)s/g, (_, key: string) => {
        const v = target[key];
        if (v === undefined || v === null) missing = true;
        return String(v);
      });
      if (missing) return false;
    }
    const actual = (creds as unknown as Record<string, Credentials[keyof Credentials] | undefined>)[field];
    if (actual === undefined || actual === null) return false;
    if (typeof actual === 'boolean') return String(actual).toLowerCase() === expected.toLowerCase();
    return String(actual) === expected;
  }

  /** True when the named rule allows the caller (unknown rule names deny). */
  allows(action: string, caller: CallerContext, target?: Target): boolean {
    const rule = this.rules.get(action);
    if (!rule) return false;
    const creds: Credentials = { user_id: caller.userId, project_id: caller.projectId, roles: caller.roles, is_admin: caller.isAdmin };
    if (target) return this.evaluate(rule, creds, target, 0);
    // Rules are fixed once loaded, and with the default target the answer depends only on the caller: remember it
    // (every API request asks; a few callers make most of them).
    const key = `${action}\u0000${caller.isAdmin}\u0000${caller.userId}\u0000${caller.projectId}\u0000${caller.roles.join('\u0000')}`;
    const known = this.decisions.get(key);
    if (known !== undefined) return known;
    const allowed = this.evaluate(rule, creds, { project_id: caller.projectId, user_id: caller.userId }, 0);
    if (this.decisions.size >= MAX_REMEMBERED_DECISIONS) this.decisions.clear();
    this.decisions.set(key, allowed);
    return allowed;
  }

  /** Masakari's context.can(): 403 "Policy doesn't allow X to be performed." */
  enforce(action: string, caller: CallerContext): void {
    if (!this.allows(action, caller)) {
      throw new MasakariError(403, 'forbidden', `Policy doesn't allow ${action} to be performed.`);
    }
  }

  /** Masakari's is_admin for a keystone caller: the context_is_admin rule on the caller's roles. */
  isAdmin(roles: string[], userId: string | null, projectId: string | null): boolean {
    return this.allows('context_is_admin', { userId, projectId, roles, isAdmin: false });
  }
}
