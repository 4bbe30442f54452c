// The deterministic simulator: a composition root (as src/roles/ are), not a driver. It wires the core engine and
// store to the simulated cloud and BMC (src/drivers/compute/sim, src/drivers/fence/sim) on virtual time; the
// simulated cloud stays a driver, the runner here only composes.
//
// Loading scenario files. A scenario is a directory with scenario.yaml and expected.log (the golden log), or a
// single YAML file (then the golden log, when there is one, is the same path with .log instead of .yaml).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../core/errors.ts';
import { parseScenario, ScenarioError, type Scenario } from './format.ts';

export { runScenario, type SimResult, type RunOptions, type NotificationStat } from './runner.ts';
export { parseScenario, ScenarioError, type Scenario } from './format.ts';

export interface ScenarioFiles {
  scenarioPath: string;
  expectedPath: string;
}

export function scenarioFiles(path: string): ScenarioFiles {
  if (existsSync(path) && statSync(path).isDirectory()) {
    return { scenarioPath: join(path, 'scenario.yaml'), expectedPath: join(path, 'expected.log') };
  }
  return { scenarioPath: path, expectedPath: path.replace(/\.ya?ml$/, '') + '.log' };
}

export function loadScenario(path: string): Scenario {
  const { scenarioPath } = scenarioFiles(path);
  let text: string;
  try {
    text = readFileSync(scenarioPath, 'utf8');
  } catch (e) {
    throw new ScenarioError(`cannot read scenario ${scenarioPath}: ${errorMessage(e)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ScenarioError(`scenario ${scenarioPath} is not valid YAML: ${errorMessage(e).split('\n')[0]}`);
  }
  return parseScenario(raw, scenarioPath);
}
