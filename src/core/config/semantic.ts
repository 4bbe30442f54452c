// Checks that need more than the schema: values that are well-typed but must also parse (policy rules).
// Run at startup and by `masakari config check`, so a bad rule stops the service with exit 2 like any bad key.

import { PolicyEnforcer } from '../api/middleware/policy.ts';
import { ConfigError } from './load.ts';
import type { Config } from './schema.ts';
import { errorMessage } from '../errors.ts';

export function checkSemantics(config: Config, source: string): Config {
  const problems: { path: string; message: string }[] = [];
  for (const [name, rule] of Object.entries(config.api.policy)) {
    try {
      new PolicyEnforcer({ [name]: rule });
    } catch (e) {
      problems.push({ path: `api.policy.${name}`, message: errorMessage(e).replace(/^api\.policy: /, '') });
    }
  }
  if (problems.length) throw new ConfigError(source, problems);
  return config;
}
