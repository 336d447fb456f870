/**
 * Lints every openapi/*.yaml with @redocly/openapi-core: the `recommended` ruleset plus the settings in
 * redocly.yaml (per spec under `apis`). Prints each problem and a summary; exits 1 on any error.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblems, getMergedConfig, getTotals, lint, loadConfig } from '@redocly/openapi-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const specDir = join(root, 'openapi');
const config = await loadConfig({ configPath: join(root, 'redocly.yaml') });

/** The `apis` entry whose root is this file, so its rule overrides apply. */
function aliasOf(file: string): string | undefined {
  return Object.entries(config.apis).find(([, api]) => join(root, api.root) === file)?.[0];
}

const specs = readdirSync(specDir).filter((name) => name.endsWith('.yaml')).sort();
let errors = 0;
let warnings = 0;
for (const name of specs) {
  const file = join(specDir, name);
  const alias = aliasOf(file);
  const problems = await lint({ ref: file, config: alias ? getMergedConfig(config, alias) : config });
  const totals = getTotals(problems);
  errors += totals.errors;
  warnings += totals.warnings;
  if (problems.length > 0) formatProblems(problems, { format: 'codeframe', totals, version: 'lint-specs', maxProblems: 100 });
  console.log(`${relative(root, file)}: ${totals.errors} error(s), ${totals.warnings} warning(s)${alias ? '' : ' (no apis entry in redocly.yaml)'}`);
}
console.log(`\n${specs.length} spec(s) linted: ${errors} error(s), ${warnings} warning(s).`);
process.exit(errors > 0 ? 1 : 0);
