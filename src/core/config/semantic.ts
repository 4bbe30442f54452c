// Checks that need more than the schema: values that are well-typed but must also parse (policy rules).
// Run at startup and by `masakari config check`, so a bad rule stops the service with exit 2 like any bad key.

import { DEFAULT_RULES, PolicyEnforcer, referencedRules } from '../api/middleware/policy.ts';
import { errorMessage } from '../errors.ts';
import { ConfigError } from './load.ts';
import { didYouMean } from './nearest.ts';
import type { Config } from './schema.ts';
import { isMysqlUrl, MysqlUrlError, parseMysqlUrl } from '../store/mysql/url.ts';

type Problem = { path: string; message: string };

/**
 * Rule names: a name Masakari does not know is a typo unless another rule refers to it (a helper rule such as
 * admin_or_reader used as rule:admin_or_reader). A misspelled name would otherwise change nothing, silently: the
 * real rule keeps its default. A reference to a rule that is not defined denies silently, so it is refused too.
 */
function policyNameProblems(overrides: Record<string, string>): Problem[] {
  const rules = { ...DEFAULT_RULES, ...overrides };
  const refs = new Map<string, string[]>();
  for (const [name, text] of Object.entries(rules)) {
    let names: string[];
    try {
      names = referencedRules(text);
    } catch {
      continue; // does not parse: reported below by the enforcer, with the parser's reason
    }
    for (const r of names) refs.set(r, [...(refs.get(r) ?? []), name]);
  }
  const problems: Problem[] = [];
  for (const name of Object.keys(overrides)) {
    if (name in DEFAULT_RULES || refs.has(name)) continue;
    problems.push({ path: `api.policy.${name}`, message: `unknown policy rule${didYouMean(name, Object.keys(DEFAULT_RULES))}` });
  }
  for (const [ref, users] of refs) {
    if (ref in rules) continue;
    for (const user of users) {
      problems.push({
        path: `api.policy.${user}`,
        message: `refers to rule "${ref}", which is not defined${didYouMean(ref, Object.keys(rules))}`,
      });
    }
  }
  return problems;
}

export function checkSemantics(config: Config, source: string): Config {
  const problems: Problem[] = policyNameProblems(config.api.policy);
  for (const [name, rule] of Object.entries(config.api.policy)) {
    try {
      new PolicyEnforcer({ [name]: rule });
    } catch (e) {
      problems.push({ path: `api.policy.${name}`, message: errorMessage(e).replace(/^api\.policy: /, '') });
    }
  }
  const notifications = config.oslo_messaging_notifications;
  if (notifications.driver === 'messagingv2' && notifications.transport_url === null) {
    problems.push({
      path: 'oslo_messaging_notifications.transport_url',
      message: 'driver messagingv2 needs a transport_url (rabbit://USER:PASS@HOST:PORT/VHOST)',
    });
  }
  // A MySQL URL (one host or several) is parsed here, so a malformed host list stops startup with its key path; the
  // messages never contain the password.
  if (isMysqlUrl(config.database.url)) {
    try {
      parseMysqlUrl(config.database.url);
    } catch (e) {
      if (!(e instanceof MysqlUrlError)) throw e;
      problems.push({ path: 'database.url', message: e.message });
    }
  }
  if (problems.length) throw new ConfigError(source, problems);
  return config;
}
