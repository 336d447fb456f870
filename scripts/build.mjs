#!/usr/bin/env node
/**
 * src/**\/*.ts → dist/**\/*.js, one file for one file (no bundling), for running the gateway as plain
 * JavaScript: `npm run build && npm run start:dist`. `npm start` runs the TypeScript through tsx, whose
 * loader is a second V8 isolate in the process (~25 MiB more RSS) — fine on a laptop, not in
 * production or under the bench. dist/ mirrors src/ at the same depth, so paths such as
 * `new URL('../../openapi/', import.meta.url)` resolve the same from either. Type checking is
 * `npm run typecheck`'s job; this only strips types.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist');

export async function buildDist() {
  const entryPoints = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
  rmSync(outdir, { recursive: true, force: true });
  await build({ entryPoints, outdir, outbase: join(root, 'src'), format: 'esm', platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' });
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDist();
  console.log(`built ${outdir}`);
}
