// Request body schemas of the Masakari v1 API (what Masakari accepts; keyword order matters for which error is
// reported, see jsonschema.ts) and the one function the resources call to validate a body.

import { badRequest } from '../../domain/errors.ts';
import { formatCheckers } from './formats.ts';
import { compileSchema, type Schema, type Validator } from './jsonschema.ts';
import { PyTuple, pyStr } from './pyrepr.ts';

const name: Schema = { type: 'string', minLength: 1, maxLength: 255, format: 'name' };
const description: Schema = { type: ['string', 'null'], minLength: 0, format: 'description' };
const hostType: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^[a-zA-Z0-9]*$' };
export const BOOLEAN_VALUES = [
  true,
  'True',
  'TRUE',
  'true',
  '1',
  'ON',
  'On',
  'on',
  'YES',
  'Yes',
  'yes',
  false,
  'False',
  'FALSE',
  'false',
  '0',
  'OFF',
  'Off',
  'off',
  'NO',
  'No',
  'no',
] as const;
const boolean: Schema = { type: ['boolean', 'string'], enum: BOOLEAN_VALUES };
const hostname: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
const payload: Schema = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
const EVENTS = new PyTuple(['STARTED', 'STOPPED']);

function wrap(key: string, inner: Schema): Schema {
  return { type: 'object', properties: { [key]: inner }, required: [key], additionalProperties: false };
}

const segmentProps = (withEnabled: boolean): Record<string, Schema> => ({
  name,
  description,
  recovery_method: { type: 'string', enum: ['auto', 'reserved_host', 'auto_priority', 'rh_priority'] },
  service_type: name,
  ...(withEnabled ? { enabled: boolean } : {}),
});
const anyRequired = (keys: string[]) => keys.map((k) => ({ required: [k] }));

const segmentCreate = (v12: boolean): Schema =>
  wrap('segment', {
    type: 'object',
    properties: segmentProps(v12),
    additionalProperties: false,
    required: ['name', 'recovery_method', 'service_type'],
  });
const segmentUpdate = (v12: boolean): Schema =>
  wrap('segment', {
    type: 'object',
    properties: segmentProps(v12),
    additionalProperties: false,
    anyOf: anyRequired(['name', 'description', 'recovery_method', 'service_type', ...(v12 ? ['enabled'] : [])]),
  });

const hostProps: Record<string, Schema> = {
  name,
  type: hostType,
  control_attributes: description,
  reserved: boolean,
  on_maintenance: boolean,
};

const compiled = (s: Schema) => compileSchema(s, formatCheckers);

export const validators = {
  segmentCreate: compiled(segmentCreate(false)),
  segmentCreateV12: compiled(segmentCreate(true)),
  segmentUpdate: compiled(segmentUpdate(false)),
  segmentUpdateV12: compiled(segmentUpdate(true)),
  hostCreate: compiled(wrap('host', { type: 'object', properties: hostProps, additionalProperties: false, required: ['name', 'type', 'control_attributes'] })),
  hostUpdate: compiled(
    wrap('host', {
      type: 'object',
      properties: hostProps,
      additionalProperties: false,
      anyOf: anyRequired(['name', 'type', 'control_attributes', 'reserved', 'on_maintenance']),
    }),
  ),
  notificationCreate: compiled(
    wrap('notification', {
      type: 'object',
      properties: {
        type: { type: 'string', enum: new PyTuple(['COMPUTE_HOST', 'VM', 'PROCESS']) },
        hostname,
        generated_time: { type: 'string', format: 'date-time' },
        payload,
      },
      required: ['type', 'hostname', 'generated_time', 'payload'],
      additionalProperties: false,
    }),
  ),
  computeHostPayload: compiled({
    type: 'object',
    properties: {
      host_status: { enum: new PyTuple(['NORMAL', 'UNKNOWN']), type: 'string' },
      cluster_status: { enum: new PyTuple(['ONLINE', 'OFFLINE']), type: 'string' },
      event: { enum: EVENTS, type: 'string' },
    },
    required: ['event'],
    additionalProperties: false,
  }),
  processPayload: compiled({
    type: 'object',
    properties: {
      process_name: { type: 'string', minLength: 1, maxLength: 4096 },
      event: { enum: EVENTS, type: 'string' },
    },
    required: ['process_name', 'event'],
    additionalProperties: false,
  }),
  vmPayload: compiled({
    type: 'object',
    properties: {
      instance_uuid: { type: 'string', format: 'uuid' },
      vir_domain_event: { type: 'string', minLength: 1, maxLength: 255 },
      event: { type: 'string', minLength: 1, maxLength: 255 },
    },
    required: ['instance_uuid', 'vir_domain_event', 'event'],
    additionalProperties: false,
  }),
} satisfies Record<string, Validator>;

/** Throws Masakari's 400 for the first (best-matching) schema error; returns the body typed as valid. */
export function validate<T>(validator: Validator, body: unknown): T {
  const e = validator(body);
  if (!e) return body as T;
  if (e.causeMessage) throw badRequest(e.causeMessage);
  if (e.path.length > 0) {
    throw badRequest(`Invalid input for field/attribute ${e.path[e.path.length - 1]}. Value: ${pyStr(e.instance)}. ${e.message}`);
  }
  throw badRequest(e.message);
}
