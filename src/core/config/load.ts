// Loads the configuration: defaults < YAML file < MASAKARI_* environment < command-line flags.
// Any problem throws ConfigError listing every offending key path with the reason.

import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { configSchema, type Config } from './schema.ts';
import { nearestName } from './nearest.ts';
import { AppError, errorMessage } from '../errors.ts';

export class ConfigError extends AppError {
  readonly code = 'CONFIG_INVALID';

  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`invalid configuration (${source}):\n` + problems.map((p) => `  ${p.path || '<root>'}: ${p.message}`).join('\n'));
  }
}

export interface ConfigSources {
  /** Path of the YAML file; undefined means none. */
  file?: string;
  /** Usually process.env; only MASAKARI_<SECTION>__<KEY>[__<KEY>...] entries are read (see envOverrides). */
  env?: Record<string, string | undefined>;
  /** Told about MASAKARI_* variables that are ignored because they are no configuration key. */
  warn?: (message: string) => void;
  /** Already-structured overrides from flags, e.g. {api: {listen: '0.0.0.0:15868'}}. */
  overrides?: Record<string, unknown>;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged into `base`, recursively for mappings; anything else in `over` (lists included) replaces. */
export function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTree(v) && isTree(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '', message: `cannot read: ${errorMessage(e)}` }]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0]! : errorMessage(e);
    throw new ConfigError(file, [{ path: '', message: `not valid YAML: ${msg}` }]);
  }
  if (doc === null || doc === undefined) return {};
  if (!isTree(doc)) throw new ConfigError(file, [{ path: '', message: 'the top level must be a mapping of sections' }]);
  return doc;
}

/** MASAKARI_* variables that are not configuration keys: the config file's path, and switches of the CLI and tests. */
const NOT_CONFIG = new Set(['MASAKARI_CONFIG', 'MASAKARI_DEBUG', 'MASAKARI_KEEP_LAB']);

/**
 * MASAKARI_API__LISTEN=0.0.0.0:15868 -> {api: {listen: '0.0.0.0:15868'}}. Keys are lower-cased; the value is read
 * as a YAML scalar so that numbers and booleans keep their type (quote it to force a string).
 * Only a variable whose first part is one of our top-level keys (a section such as API, or DATA_DIR) is
 * configuration; below that, an unknown key is an error like in the file (a typo must not pass). Any other
 * MASAKARI_* variable may belong to another tool on the machine (MASAKARI_MIRROR...): it is ignored, and `warn` is
 * told, with the nearest section when it looks like a misspelled one. MASAKARI_CONFIG is the config file's path.
 */
export function envOverrides(env: Record<string, string | undefined>, warn: (message: string) => void = () => {}): Tree {
  const topLevel = Object.keys(configSchema.shape);
  let out: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('MASAKARI_') || raw === undefined || NOT_CONFIG.has(name)) continue;
    const path = name.slice('MASAKARI_'.length).toLowerCase().split('__');
    if (!topLevel.includes(path[0]!)) {
      const near = path.length > 1 ? nearestName(path[0]!, topLevel) : undefined;
      const hint = near ? `; did you mean MASAKARI_${near.toUpperCase()}__${path.slice(1).join('__').toUpperCase()}?` : '';
      warn(`environment variable ${name} is not a configuration key (no section "${path[0]}"): ignored${hint}`);
      continue;
    }
    if (path.some((p) => p === '')) continue;
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch {
      value = raw;
    }
    if (value === null && raw !== '' && raw !== 'null' && raw !== '~') value = raw;
    let node: Tree = { [path[path.length - 1]!]: value };
    for (let i = path.length - 2; i >= 0; i--) node = { [path[i]!]: node };
    out = deepMerge(out, node);
  }
  return out;
}

export function parseConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    let path = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      path = [path, keys[0]].filter(Boolean).join('.');
      message = keys.length > 1 ? `unknown keys: ${keys.join(', ')}` : 'unknown key';
    }
    return { path, message };
  });
  throw new ConfigError(source, problems);
}

export function loadConfig(sources: ConfigSources = {}): Config {
  let tree: Tree = sources.file ? readYaml(sources.file) : {};
  const from = [sources.file ?? 'defaults'];
  if (sources.env) {
    const e = envOverrides(sources.env, sources.warn);
    if (Object.keys(e).length) {
      tree = deepMerge(tree, e);
      from.push('environment');
    }
  }
  if (sources.overrides && Object.keys(sources.overrides).length) {
    tree = deepMerge(tree, sources.overrides);
    from.push('flags');
  }
  return parseConfig(tree, from.join(' + '));
}
