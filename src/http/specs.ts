/** The hand-written specs in openapi/, bundled once at boot (one document, internal $refs only). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { bundle, createConfig } from '@redocly/openapi-core';
import * as OpenApiValidator from 'express-openapi-validator';

export const SPEC_DIR = fileURLToPath(new URL('../../openapi/', import.meta.url));
export const SPEC_NAMES = ['acqp', 'alipayplus', 'merchant', 'components'] as const;
export type SpecName = (typeof SPEC_NAMES)[number];

export async function loadSpec(name: SpecName, options: { dereference?: boolean } = {}): Promise<Record<string, unknown>> {
  const config = await createConfig({});
  const result = await bundle({ ref: join(SPEC_DIR, `${name}.yaml`), config, dereference: options.dereference ?? false });
  return result.bundle.parsed as Record<string, unknown>;
}

/**
 * The request validator of one path of `spec`'s operations, built over a copy of the spec holding that
 * path alone: express-openapi-validator (5.6) matches a request by compiling the pattern of each path
 * of its spec anew, in order, on every request until one matches (a cache is proposed upstream, its PR
 * #1217); over one path it compiles one. Responses, security and the spec itself are ours to check
 * elsewhere (signatures, bearer tokens, the spec lint).
 */
export function pathValidator(spec: object, path: string, options: { allowUnknownQueryParameters: boolean }) {
  const paths = (spec as { paths: Record<string, unknown> }).paths;
  return OpenApiValidator.middleware({
    apiSpec: { ...spec, paths: { [path]: paths[path] } } as never,
    validateRequests: { allowUnknownQueryParameters: options.allowUnknownQueryParameters },
    validateResponses: false,
    validateSecurity: false,
    validateApiSpec: false,
  });
}
