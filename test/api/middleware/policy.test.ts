import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallerContext } from '../../../src/core/api/context.ts';
import { PolicyEnforcer, parseRule } from '../../../src/core/api/middleware/policy.ts';
import { MasakariError } from '../../../src/core/domain/errors.ts';

const caller = (roles: string[], projectId: string | null = 'p1', isAdmin = false): CallerContext => ({ userId: 'u1', projectId, roles, isAdmin });

test('defaults: every Masakari API rule needs an admin context', () => {
  const p = new PolicyEnforcer();
  assert.equal(p.allows('os_masakari_api:segments:index', caller([], 'p1', true)), true);
  assert.equal(p.allows('os_masakari_api:segments:index', caller(['member'])), false);
  assert.equal(p.allows('os_masakari_api:notifications:create', caller(['member'])), false);
  assert.equal(p.isAdmin(['Admin'], 'u', 'p'), true, 'role names compare case-insensitively');
  assert.equal(p.isAdmin(['reader'], 'u', 'p'), false);
  assert.equal(p.allows('no:such:rule', caller([], null, true)), false, 'unknown rule names deny');
});

test('enforce throws Masakari 403 text', () => {
  const p = new PolicyEnforcer();
  assert.throws(
    () => p.enforce('os_masakari_api:os-hosts:delete', caller(['member'])),
    (e: unknown) =>
      e instanceof MasakariError &&
      e.status === 403 &&
      e.key === 'forbidden' &&
      e.message === "Policy doesn't allow os_masakari_api:os-hosts:delete to be performed.",
  );
});

test('overrides: role, rule references, and/or/not, parentheses, @, !, target substitution', () => {
  const p = new PolicyEnforcer({
    'os_masakari_api:segments:index': 'rule:admin_api or role:reader',
    'os_masakari_api:segments:detail': '(role:reader or role:member) and not role:banned',
    'os_masakari_api:segments:create': '!',
    'os_masakari_api:segments:update': '@',
    'os_masakari_api:segments:delete': 'project_id:%(project_id)s and user_id:u1',
    'os_masakari_api:os-hosts:index': "project_id:'p9'",
  });
  assert.equal(p.allows('os_masakari_api:segments:index', caller(['reader'])), true);
  assert.equal(p.allows('os_masakari_api:segments:index', caller(['member'])), false);
  assert.equal(p.allows('os_masakari_api:segments:detail', caller(['member'])), true);
  assert.equal(p.allows('os_masakari_api:segments:detail', caller(['member', 'banned'])), false);
  assert.equal(p.allows('os_masakari_api:segments:create', caller([], 'p1', true)), false);
  assert.equal(p.allows('os_masakari_api:segments:update', caller([])), true);
  assert.equal(p.allows('os_masakari_api:segments:delete', caller([])), true);
  assert.equal(p.allows('os_masakari_api:segments:delete', caller([], null)), false, 'no project: %(project_id)s cannot match');
  assert.equal(p.allows('os_masakari_api:os-hosts:index', caller([], 'p9')), true);
  assert.equal(p.allows('os_masakari_api:os-hosts:index', caller([], 'p1')), false);
});

test('a rule that does not parse stops construction naming the rule', () => {
  assert.throws(() => new PolicyEnforcer({ 'os_masakari_api:segments:index': 'role:admin or' }), /segments:index.*does not parse/);
  assert.throws(() => new PolicyEnforcer({ x: '(role:a' }), /missing '\)'/);
  assert.throws(() => new PolicyEnforcer({ x: 'admin' }), /not a check/);
  assert.deepEqual(parseRule(''), { kind: 'true' });
});
