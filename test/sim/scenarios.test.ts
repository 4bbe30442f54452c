// Runs every scenario under test/sim/scenarios/ (a directory with scenario.yaml and expected.log) through the real
// engine, the real SQLite store and the simulated cloud on virtual time, and compares the log with the golden one.
// Regenerate the golden logs after an intended change with: SIM_UPDATE=1 npm test -- test/sim/scenarios
// (then read the diff: the golden logs ARE the specification of the engine's behaviour).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, runScenario, scenarioFiles } from '../../src/sim/index.ts';

const dir = join(import.meta.dirname, 'scenarios');
const update = process.env.SIM_UPDATE === '1';
const names = readdirSync(dir)
  .filter((n) => existsSync(join(dir, n, 'scenario.yaml')))
  .sort();

test('there are at least 40 scenarios', () => {
  assert.ok(names.length >= 40, `only ${names.length} scenarios`);
});

for (const name of names) {
  test(`scenario ${name}`, { timeout: 60_000 }, async () => {
    const path = join(dir, name);
    const scenario = loadScenario(path);
    const result = await runScenario(scenario);
    const { expectedPath } = scenarioFiles(path);
    if (update || !existsSync(expectedPath)) {
      if (!update) assert.fail(`no golden log ${expectedPath}; create it with SIM_UPDATE=1 and review it`);
      writeFileSync(expectedPath, result.text);
    }
    assert.equal(result.text, readFileSync(expectedPath, 'utf8'), `log of ${name} differs from expected.log`);
    // Invariants, whatever the golden log says.
    assert.equal(result.repeatedEvacuations, 0, 'an instance was evacuated again after its evacuation had completed');
    const optOut = (scenario.config as { host_failure?: { fencing_required?: boolean } }).host_failure?.fencing_required === false;
    if (!optOut) assert.deepEqual(result.violations, [], 'a VM ran on a new host while the failed host still had power');
  });
}
