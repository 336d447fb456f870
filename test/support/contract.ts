/**
 * Validates the gateway's answers against its own specs (Ajv 2020 on the dereferenced documents), so
 * every HTTP test also proves the response contract.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { loadSpec, type SpecName } from '../../src/http/specs.js';

type Operation = { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: object }> }> };

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const cache = new Map<string, Promise<Map<string, ValidateFunction>>>();

/** `operationId status` → validator of the response body. */
function validators(spec: SpecName): Promise<Map<string, ValidateFunction>> {
  let entry = cache.get(spec);
  if (!entry) {
    entry = loadSpec(spec, { dereference: true }).then((doc) => {
      const map = new Map<string, ValidateFunction>();
      for (const methods of Object.values(doc.paths as Record<string, Record<string, Operation>>)) {
        for (const operation of Object.values(methods)) {
          for (const [status, response] of Object.entries(operation.responses ?? {})) {
            const schema = Object.values(response.content ?? {})[0]?.schema;
            if (schema && operation.operationId) map.set(`${operation.operationId} ${status}`, ajv.compile(schema));
          }
        }
      }
      return map;
    });
    cache.set(spec, entry);
  }
  return entry;
}

export async function expectMatchesSpec(spec: SpecName, operationId: string, status: number, body: unknown): Promise<void> {
  const map = await validators(spec);
  const validate = map.get(`${operationId} ${status}`) ?? map.get(`${operationId} ${String(status)[0]}XX`) ?? map.get(`${operationId} default`);
  expect(validate, `${spec}.yaml declares no ${status} response for ${operationId}`).toBeDefined();
  const ok = validate!(body);
  expect(ok, `${operationId} ${status} response violates ${spec}.yaml: ${ajv.errorsText(validate!.errors)}\n${JSON.stringify(body)}`).toBe(true);
}
