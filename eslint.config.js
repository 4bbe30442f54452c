// ESLint (flat config) with typescript-eslint's type-aware rules: they catch what tsc does not, above all a
// promise nobody awaits or catches (no-floating-promises, no-misused-promises), which in a long-running daemon
// means a lost failure or an unhandled rejection. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
// `npm run lint` runs this and `prettier --check`; CI runs it before the tests (.ci/run).

import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.data/', 'tmp/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An async method that does not await is how an interface with async members is implemented synchronously.
      '@typescript-eslint/require-await': 'off',
      // The house style runs two statements as one comma expression after `if`/`while` (`(a.push(x), b.push(y))`).
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `let x;` assigned once later but read by a closure (an after() hook) before that: const is not possible.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Flags `let x = default; try { x = ... } catch {}`, a pattern used on purpose for fallbacks.
      'no-useless-assignment': 'off',
      // Exhaustive ternaries end in a branch typed `never`; interpolating it is harmless.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true, allowNever: true }],
    },
  },
  {
    // Tests and benchmarks read untyped JSON answers all the time; `any` there is a convenience, not a risk.
    // node:test's test()/describe() return promises the runner itself tracks.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
    },
  },
  {
    // Plain Node scripts (scripts/run-tests.mjs): no type information, Node's globals.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);
