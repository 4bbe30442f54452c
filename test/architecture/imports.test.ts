// The layering of docs/architecture.md, checked on the sources: core (domain, ports, API, engine, store, monitors)
// never imports drivers, roles, the CLI or main.ts, so it runs unchanged against the simulator, libvirt or
// OpenStack; drivers never import roles, the CLI or main.ts (they are parts that a composition root puts together).
// Dynamic import() with a literal path counts too; the engine's import() of operator task modules takes a computed
// path and is not a dependency of core.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const src = join(root, 'src');

/** For each folder under src, the folders (or files) under src its modules must not import. */
export const FORBIDDEN: Record<string, string[]> = {
  core: ['drivers', 'roles', 'cli', 'main.ts'],
  drivers: ['roles', 'cli', 'main.ts'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative specifiers of static imports and exports, and of import() with a literal argument. */
export function specifiers(text: string): string[] {
  const code = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*['"`]([^'"`$]+)['"`]\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

/** Every import in `srcRoot` that crosses a forbidden boundary, as "from -> to" lines. */
export function violations(srcRoot: string): string[] {
  const out: string[] = [];
  for (const [layer, banned] of Object.entries(FORBIDDEN)) {
    const dir = join(srcRoot, layer);
    for (const file of files(dir)) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const target = relative(srcRoot, resolve(dirname(file), spec));
        const top = target.split('/')[0]!;
        if (banned.includes(top)) out.push(`${relative(srcRoot, file)} -> ${target}`);
      }
    }
  }
  return out;
}

test('core never imports drivers, roles, cli or main.ts; drivers never import roles, cli or main.ts', () => {
  assert.ok(files(join(src, 'core')).length > 50 && files(join(src, 'drivers')).length > 20, 'sources found');
  assert.deepEqual(violations(src), []);
});

test('the check sees every import form (planted violations are caught)', () => {
  const planted = [
    "import { x } from '../../drivers/libvirt/index.ts';",
    "import type { Y } from '../roles/all.ts';",
    "export { z } from '../../cli/common.ts';",
    "import '../../main.ts';",
    "const m = await import('../../drivers/fence/index.ts');",
    "import {\n  a,\n  b,\n} from '../../drivers/compute/sim/index.ts';",
  ].join('\n');
  assert.equal(specifiers(planted).length, 6);
  assert.deepEqual(specifiers("// import { x } from '../drivers/a.ts';\nconst s = 'from ../drivers';"), []);
});
