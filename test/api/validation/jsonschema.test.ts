import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSchema } from '../../../src/core/api/validation/jsonschema.ts';
import { validate, validators } from '../../../src/core/api/validation/schemas.ts';
import { MasakariError } from '../../../src/core/domain/errors.ts';

const messageOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MasakariError);
    assert.equal(e.status, 400);
    return e.message;
  }
  assert.fail('expected a validation error');
};

test('the shallowest error wins, ties go to the first keyword in schema order', () => {
  // A missing property (depth 1) beats a wrong type deeper down (depth 2).
  assert.equal(
    messageOf(() => validate(validators.segmentCreate, { segment: { name: 5, service_type: 'COMPUTE' } })),
    "Invalid input for field/attribute segment. Value: {'name': 5, 'service_type': 'COMPUTE'}. 'recovery_method' is a required property",
  );
  // Both errors at depth 1: additionalProperties comes before required in the segment schema.
  assert.equal(
    messageOf(() => validate(validators.segmentCreate, { segment: { colour: 'red' } })),
    "Invalid input for field/attribute segment. Value: {'colour': 'red'}. Additional properties are not allowed ('colour' was unexpected)",
  );
  // type comes before format for the same field.
  assert.equal(
    messageOf(() => validate(validators.segmentCreate, { segment: { name: 123, recovery_method: 'auto', service_type: 'C' } })),
    "Invalid input for field/attribute name. Value: 123. 123 is not of type 'string'",
  );
});

test('an anyOf whose alternatives fail alike is reported as a whole; a stronger error beats it', () => {
  assert.equal(
    messageOf(() => validate(validators.hostUpdate, { host: {} })),
    'Invalid input for field/attribute host. Value: {}. {} is not valid under any of the given schemas',
  );
  assert.equal(
    messageOf(() => validate(validators.hostUpdate, { host: { rack: 'r1' } })),
    "Invalid input for field/attribute host. Value: {'rack': 'r1'}. Additional properties are not allowed ('rack' was unexpected)",
  );
});

test('names: the InvalidName message replaces the generic one', () => {
  for (const name of [' lead', 'trail ', 'tab\tin']) {
    assert.equal(
      messageOf(() => validate(validators.segmentCreate, { segment: { name, recovery_method: 'auto', service_type: 'C' } })),
      "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
    );
  }
  assert.doesNotThrow(() => validate(validators.segmentCreate, { segment: { name: 'a b', recovery_method: 'auto', service_type: 'C' } }));
});

test('top-level and payload errors are reported bare; several extras read "were"', () => {
  assert.equal(
    messageOf(() => validate(validators.segmentCreate, null)),
    "None is not of type 'object'",
  );
  assert.equal(
    messageOf(() => validate(validators.segmentCreate, {})),
    "'segment' is a required property",
  );
  assert.equal(
    messageOf(() => validate(validators.vmPayload, { event: 'LIFECYCLE', vir_domain_event: 'X' })),
    "'instance_uuid' is a required property",
  );
  assert.equal(
    messageOf(() => validate(validators.computeHostPayload, { event: 'STOPPED', a: '1', b: '2' })),
    "Additional properties are not allowed ('a', 'b' were unexpected)",
  );
  assert.equal(
    messageOf(() => validate(validators.computeHostPayload, { event: 'STOPPED', host_status: 'DOWN' })),
    "Invalid input for field/attribute host_status. Value: DOWN. 'DOWN' is not one of ('NORMAL', 'UNKNOWN')",
  );
});

test('patternProperties with additionalProperties false names the regexes', () => {
  const v = compileSchema({ type: 'object', patternProperties: { '^[a-z]+$': { type: 'string' } }, additionalProperties: false });
  assert.equal(v({ 'B!': 'x' })?.message, "'B!' does not match any of the regexes: '^[a-z]+$'");
  assert.equal(v({ ok: 1 })?.message, "1 is not of type 'string'");
  assert.equal(v({ ok: 'fine' }), undefined);
});

test('notification payload values must be strings of at most 255 characters', () => {
  const body = (payload: unknown) => ({ notification: { type: 'VM', hostname: 'h', generated_time: '2026-01-01T00:00:00', payload } });
  assert.equal(
    messageOf(() => validate(validators.notificationCreate, body({ event: 'x'.repeat(256) }))),
    `Invalid input for field/attribute event. Value: ${'x'.repeat(256)}. '${'x'.repeat(256)}' is too long`,
  );
  assert.equal(
    messageOf(() => validate(validators.notificationCreate, { notification: { type: 'VM', hostname: 'h', generated_time: 'yesterday', payload: {} } })),
    "Invalid input for field/attribute generated_time. Value: yesterday. 'yesterday' is not a 'date-time'",
  );
});
