// Real components (libvirtd, MariaDB, the Python clients, crm_mon, ...) are used by the tests wherever they can run here.
// When one is missing: locally the test is skipped with the reason; under CI (CI=true) the test FAILS, because CI
// installs every component and a missing one means the suite did not test what it claims.

import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** True when `cmd` is on PATH (or an absolute path that exists and runs). */
export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${JSON.stringify(cmd)}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Call at the top of a test that needs a real component. Returns false (and marks the test skipped) when it is
 * missing outside CI; throws when it is missing under CI.
 */
export function requireComponent(t: TestContext, name: string, available: boolean): boolean {
  if (available) return true;
  const why = `real component missing: ${name}`;
  if (inCI) throw new Error(`${why} (CI must install it: see .ci/install.d/)`);
  t.skip(why);
  return false;
}
