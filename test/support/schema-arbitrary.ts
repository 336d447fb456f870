/**
 * fast-check arbitraries from the specs' JSON Schemas: `valid(schema)` generates values the schema
 * accepts (most of the time: patterns and lengths are honoured), `hostile()` the values attackers and
 * broken clients send, and `mutate` puts one hostile value somewhere in a valid body.
 */
import fc from 'fast-check';

type Schema = Record<string, any>;

export function valid(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.oneOf || schema.anyOf) return fc.oneof(...(schema.oneOf ?? schema.anyOf).map((s: Schema) => valid(s, depth)));
  if (schema.allOf) return valid(Object.assign({}, ...schema.allOf), depth);
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? (schema.properties ? 'object' : 'string')];
  return fc.oneof(...types.map((type) => ofType(type, schema, depth)));
}

function ofType(type: string, schema: Schema, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000_000, noNaN: true });
    case 'array':
      return fc.array(valid(schema.items ?? {}, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'object': {
      const properties: Record<string, Schema> = schema.properties ?? {};
      const required: string[] = schema.required ?? [];
      const keys = Object.keys(properties).filter((k) => required.includes(k) || depth < 3);
      return fc.record(Object.fromEntries(keys.map((k) => [k, valid(properties[k]!, depth + 1)])), { requiredKeys: keys.filter((k) => required.includes(k)) });
    }
    default: {
      if (schema.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 40, 40);
      // Currency codes: mostly real ones, so that valid bodies get past the business rules too.
      if (schema.pattern === '^[A-Z]{3}$') return fc.oneof({ weight: 4, arbitrary: fc.constantFrom('JPY', 'USD', 'EUR', 'HKD', 'SGD') }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{3}$/) });
      const base = schema.pattern ? fc.stringMatching(new RegExp(schema.pattern)) : fc.string({ minLength: Math.max(min, 1), maxLength: Math.max(max, 1) });
      return base.filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
    }
  }
}

/** What broken or hostile clients send where a value is expected. */
export function hostile(): fc.Arbitrary<unknown> {
  const deep = fc.integer({ min: 20, max: 200 }).map((n) => {
    let v: unknown = 'x';
    for (let i = 0; i < n; i++) v = { a: v };
    return v;
  });
  return fc.oneof(
    fc.constant(''),
    fc.constant(null),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.string({ unit: 'grapheme', maxLength: 50 }),
    fc.constant('\u0000\ud83d\ude00\u202e'),
    fc.constant('x'.repeat(5_000)),
    deep,
    fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 1 }), { maxKeys: 4 }),
  );
}

/** Paths to every value in a JSON object (objects only, not array items). */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

/** One change to a valid body: a hostile value at some path, a removed key, or an unknown key. */
export function mutate(body: unknown): fc.Arbitrary<unknown> {
  const all = paths(body);
  if (all.length === 0) return fc.constant(body);
  return fc.tuple(fc.constantFrom(...all), fc.constantFrom('replace', 'remove', 'add'), hostile()).map(([path, how, value]) => {
    const copy = structuredClone(body) as Record<string, any>;
    let parent = copy;
    for (const key of path.slice(0, -1)) parent = parent[key];
    const key = path.at(-1)!;
    if (how === 'replace') parent[key] = value;
    else if (how === 'remove') delete parent[key];
    else parent[`x_${key}`] = value;
    // The body as it travels: JSON has no NaN, Infinity or undefined (the first two become null, the
    // last vanishes), and the tests judge what the gateway receives, not the value before sending.
    return JSON.parse(JSON.stringify(copy)) as unknown;
  });
}

/** Raw texts that are not one clean JSON object. */
export function brokenJson(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n)),
    fc.constant(valid.replace(/^\{/, '{"codeValue":"dup","paymentId":"dup",')),
    fc.constantFrom('[]', '1', 'null', '"text"', 'true', '{', '{"a":}', '\u0000'),
    fc.string({ maxLength: 30 }),
  );
}
