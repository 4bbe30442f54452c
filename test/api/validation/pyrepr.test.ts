import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PyTuple, pyFloatStr, pyRepr, pyStr } from '../../../src/core/api/validation/pyrepr.ts';

test('pyRepr prints JSON values the way Python repr() does', () => {
  assert.equal(pyRepr(null), 'None');
  assert.equal(pyRepr(true), 'True');
  assert.equal(pyRepr([1, 2]), '[1, 2]');
  assert.equal(pyRepr({ name: 'seg-x', enabled: false }), "{'name': 'seg-x', 'enabled': False}");
  assert.equal(pyRepr("it's"), '"it\'s"');
  assert.equal(pyRepr('say "hi" it\'s'), "'say \"hi\" it\\'s'");
  assert.equal(pyRepr('a\nb\\'), "'a\\nb\\\\'");
  assert.equal(pyRepr('\u0001'), "'\\x01'");
  assert.equal(pyRepr(new PyTuple(['STARTED', 'STOPPED'])), "('STARTED', 'STOPPED')");
  assert.equal(pyRepr(new PyTuple(['X'])), "('X',)");
  assert.equal(pyRepr({}), '{}');
});

test('pyStr leaves strings bare; pyFloatStr always shows a decimal point', () => {
  assert.equal(pyStr('nope'), 'nope');
  assert.equal(pyStr(5), '5');
  assert.equal(pyFloatStr(1), '1.0');
  assert.equal(pyFloatStr(0), '0.0');
  assert.equal(pyFloatStr(0.3), '0.3');
});
