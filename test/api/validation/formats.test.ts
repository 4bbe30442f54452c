import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIsoMicros } from '../../../src/core/domain/time.ts';
import { isUuidLike, isValidDescription, isValidName, parseIsoTime } from '../../../src/core/api/validation/formats.ts';
import { validate, validators } from '../../../src/core/api/validation/schemas.ts';

test("uuid-likeness follows oslo's is_uuid_like", () => {
  for (const ok of [
    '11111111-2222-3333-4444-555555555555',
    '11111111222233334444555555555555',
    '{11111111-2222-3333-4444-555555555555}',
    'urn:uuid:AAAAAAAA-2222-3333-4444-555555555555',
  ]) {
    assert.equal(isUuidLike(ok), true, ok);
  }
  for (const bad of ['not-a-uuid', '1111', 5, null, '11111111-2222-3333-4444-55555555555g']) assert.equal(isUuidLike(bad), false, String(bad));
});

test('ISO-8601 times: zones normalised to UTC, microseconds kept, impossible dates rejected', () => {
  assert.equal(formatIsoMicros(parseIsoTime('2030-01-01T10:00:00+02:00')!), '2030-01-01T08:00:00.000000');
  assert.equal(formatIsoMicros(parseIsoTime('2026-11-22T02:17:33.487258')!), '2026-11-22T02:17:33.487258');
  assert.equal(formatIsoMicros(parseIsoTime('2026-11-22T02:17:33Z')!), '2026-11-22T02:17:33.000000');
  assert.equal(formatIsoMicros(parseIsoTime('2026-11-22')!), '2026-11-22T00:00:00.000000');
  for (const bad of ['notatime', '2026-02-30T00:00:00', '2026-13-01T00:00:00', '']) assert.equal(parseIsoTime(bad), undefined, bad);
});

test('printable names and descriptions', () => {
  assert.equal(isValidName('seg a'), true);
  assert.equal(isValidName('séğ-ü'), true);
  assert.equal(isValidName(' seg'), false);
  assert.equal(isValidName('seg\u00a0'), false, 'a no-break space (Zs) cannot end a name');
  assert.equal(isValidName('a\u0007b'), false);
  assert.equal(isValidDescription('two\nlines'), true);
  assert.equal(isValidDescription('bell\u0007'), false);
  assert.throws(
    () => validate(validators.segmentCreate, { segment: { name: 's', description: 'x\u0001', recovery_method: 'auto', service_type: 'C' } }),
    /is not a 'description'/,
  );
});

test('notification hostnames allow letters, digits, - . _ only', () => {
  const body = (hostname: string) => ({ notification: { type: 'VM', hostname, generated_time: '2026-01-01T00:00:00', payload: {} } });
  assert.doesNotThrow(() => validate(validators.notificationCreate, body('compute-1.example_x')));
  assert.throws(() => validate(validators.notificationCreate, body('compute 1')), /does not match '\^\[a-zA-Z0-9-\._\]\*\$'/);
});
