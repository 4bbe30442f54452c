// A small JSON-Schema (draft 4 subset) validator that reports errors with python-jsonschema's wording and picks
// the reported error the way its best_match() does, so our 400 messages read exactly like Masakari's.
// Schemas are compiled once, at module load, into closures (no per-request compilation).
//
// Supported keywords: type, enum, minLength, maxLength, pattern, format, properties, patternProperties, required,
// additionalProperties (false only), anyOf. Keywords are checked in the order they appear in the schema object,
// because that order decides which of several equally relevant errors is reported.

import { PyTuple, pyRepr } from './pyrepr.ts';

export interface Schema {
  type?: string | string[];
  enum?: readonly unknown[] | PyTuple<unknown>;
  minLength?: number;
  maxLength?: number;
  /** Regular expression text (reported in messages as written). */
  pattern?: string;
  format?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: false;
  anyOf?: Schema[];
}

export interface SchemaError {
  /** Path from the validated document to the failing value (property names). */
  path: string[];
  instance: unknown;
  message: string;
  keyword: string;
  /** Errors of the alternatives of an anyOf. */
  context?: SchemaError[];
  /** The failure comes from a format checker that carries its own message (Masakari's InvalidName). */
  causeMessage?: string;
}

export type FormatChecker = (instance: unknown) => { ok: true } | { ok: false; causeMessage?: string };

type Check = (instance: unknown, path: string[], out: SchemaError[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeMatches(t: string, v: unknown): boolean {
  switch (t) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    default:
      throw new Error(`unsupported schema type ${t}`);
  }
}

/** Python compares with ==, where True == 1; jsonschema's enum keeps booleans apart from numbers. */
function enumHas(values: readonly unknown[], v: unknown): boolean {
  return values.some((x) => x === v);
}

/** Code points, as Python's len() counts them. */
const pyLen = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function compile(schema: Schema, formats: Record<string, FormatChecker>): Check {
  const checks: Check[] = [];
  for (const keyword of Object.keys(schema) as (keyof Schema)[]) {
    switch (keyword) {
      case 'type': {
        const types = Array.isArray(schema.type) ? schema.type : [schema.type!];
        const names = types.map((t) => pyRepr(t)).join(', ');
        checks.push((v, path, out) => {
          if (!types.some((t) => typeMatches(t, v))) {
            out.push({ path, instance: v, keyword, message: `${pyRepr(v)} is not of type ${names}` });
          }
        });
        break;
      }
      case 'enum': {
        const e = schema.enum!;
        const values = e instanceof PyTuple ? e.items : e;
        const shown = pyRepr(e);
        checks.push((v, path, out) => {
          if (!enumHas(values, v)) out.push({ path, instance: v, keyword, message: `${pyRepr(v)} is not one of ${shown}` });
        });
        break;
      }
      case 'minLength': {
        const min = schema.minLength!;
        checks.push((v, path, out) => {
          if (typeof v === 'string' && pyLen(v) < min) out.push({ path, instance: v, keyword, message: `${pyRepr(v)} is too short` });
        });
        break;
      }
      case 'maxLength': {
        const max = schema.maxLength!;
        checks.push((v, path, out) => {
          if (typeof v === 'string' && pyLen(v) > max) out.push({ path, instance: v, keyword, message: `${pyRepr(v)} is too long` });
        });
        break;
      }
      case 'pattern': {
        const text = schema.pattern!;
        const re = new RegExp(text, 'u');
        checks.push((v, path, out) => {
          if (typeof v === 'string' && !re.test(v)) out.push({ path, instance: v, keyword, message: `${pyRepr(v)} does not match ${pyRepr(text)}` });
        });
        break;
      }
      case 'format': {
        const name = schema.format!;
        const checker = formats[name];
        if (!checker) throw new Error(`unknown format ${name}`);
        checks.push((v, path, out) => {
          const r = checker(v);
          if (!r.ok) {
            out.push({ path, instance: v, keyword, message: `${pyRepr(v)} is not a ${pyRepr(name)}`, causeMessage: r.causeMessage });
          }
        });
        break;
      }
      case 'properties': {
        const props = Object.entries(schema.properties!).map(([k, s]) => [k, compile(s, formats)] as const);
        checks.push((v, path, out) => {
          if (!isObject(v)) return;
          for (const [k, check] of props) if (Object.hasOwn(v, k)) check(v[k], [...path, k], out);
        });
        break;
      }
      case 'patternProperties': {
        const pats = Object.entries(schema.patternProperties!).map(([p, s]) => [new RegExp(p, 'u'), compile(s, formats)] as const);
        checks.push((v, path, out) => {
          if (!isObject(v)) return;
          for (const [re, check] of pats) for (const k of Object.keys(v)) if (re.test(k)) check(v[k], [...path, k], out);
        });
        break;
      }
      case 'required': {
        const req = schema.required!;
        checks.push((v, path, out) => {
          if (!isObject(v)) return;
          for (const k of req) if (!Object.hasOwn(v, k)) out.push({ path, instance: v, keyword, message: `${pyRepr(k)} is a required property` });
        });
        break;
      }
      case 'additionalProperties': {
        const known = new Set(Object.keys(schema.properties ?? {}));
        const patternTexts = Object.keys(schema.patternProperties ?? {});
        const patterns = patternTexts.map((p) => new RegExp(p, 'u'));
        checks.push((v, path, out) => {
          if (!isObject(v)) return;
          const extras = Object.keys(v).filter((k) => !known.has(k) && !patterns.some((re) => re.test(k)));
          if (extras.length === 0) return;
          let message: string;
          if (patterns.length > 0) {
            const sorted = [...extras].sort();
            message = `${sorted.map((x) => pyRepr(x)).join(', ')} ${sorted.length === 1 ? 'does' : 'do'} not match any of the regexes: ${[...patternTexts]
              .sort()
              .map((x) => pyRepr(x))
              .join(', ')}`;
          } else {
            message = `Additional properties are not allowed (${extras.map((x) => pyRepr(x)).join(', ')} ${extras.length === 1 ? 'was' : 'were'} unexpected)`;
          }
          out.push({ path, instance: v, keyword, message });
        });
        break;
      }
      case 'anyOf': {
        const alternatives = schema.anyOf!.map((s) => compile(s, formats));
        checks.push((v, path, out) => {
          const context: SchemaError[] = [];
          for (const alt of alternatives) {
            const errs: SchemaError[] = [];
            alt(v, path, errs);
            if (errs.length === 0) return;
            context.push(...errs);
          }
          out.push({ path, instance: v, keyword, message: `${pyRepr(v)} is not valid under any of the given schemas`, context });
        });
        break;
      }
      default:
        throw new Error(`unsupported schema keyword ${String(keyword)}`);
    }
  }
  return (v, path, out) => {
    for (const c of checks) c(v, path, out);
  };
}

const WEAK = new Set(['anyOf', 'oneOf']);

/** python-jsonschema's relevance: shallower errors first, then non-anyOf ones. */
function relevance(e: SchemaError): [number, number] {
  return [-e.path.length, WEAK.has(e.keyword) ? 0 : 1];
}
const cmp = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

/** The one error python-jsonschema's best_match() reports (ties go to the first one found). */
export function bestMatch(errors: SchemaError[]): SchemaError | undefined {
  if (errors.length === 0) return undefined;
  let best = errors[0]!;
  for (const e of errors) if (cmp(relevance(e), relevance(best)) > 0) best = e;
  while (best.context && best.context.length > 0) {
    const sorted = [...best.context].sort((a, b) => cmp(relevance(a), relevance(b)));
    if (sorted.length >= 2 && cmp(relevance(sorted[0]!), relevance(sorted[1]!)) === 0) return best;
    best = sorted[0]!;
  }
  return best;
}

export type Validator = (instance: unknown) => SchemaError | undefined;

/** Compiles `schema` once; the returned function gives the reported error, or undefined when valid. */
export function compileSchema(schema: Schema, formats: Record<string, FormatChecker> = {}): Validator {
  const check = compile(schema, formats);
  return (instance) => {
    const errors: SchemaError[] = [];
    check(instance, [], errors);
    return bestMatch(errors);
  };
}
