/** `npm run docs [-- <folder>]`: writes the static API reference (default docs/api/). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReference } from '../src/http/docs.js';

const folder = process.argv[2] ?? 'docs/api';
mkdirSync(folder, { recursive: true });
for (const [name, contents] of await renderReference()) writeFileSync(join(folder, name), contents);
console.log(`API reference written to ${folder}/index.html`);
