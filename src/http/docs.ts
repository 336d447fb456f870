/**
 * The API reference: one Redoc page per spec (the bundled spec embedded, Redoc's standalone script
 * beside it), so it works offline. `npm run docs` writes these pages to a folder; the gateway serves
 * the same pages at /docs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import express, { type Router } from 'express';
import { loadSpec, type SpecName } from './specs.js';

const REFERENCED: { name: SpecName; title: string }[] = [
  { name: 'acqp', title: 'Alipay+ → gateway (acqp.yaml)' },
  { name: 'alipayplus', title: 'gateway → Alipay+ (alipayplus.yaml)' },
  { name: 'merchant', title: 'Merchant API (merchant.yaml)' },
  { name: 'components', title: 'Shared components (components.yaml)' },
];

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>body{margin:0;font-family:system-ui,sans-serif}main{max-width:48rem;margin:3rem auto;padding:0 1rem}</style></head><body>${body}</body></html>`;

/** file name → contents, for the folder and for /docs. */
export async function renderReference(): Promise<Map<string, string | Buffer>> {
  const files = new Map<string, string | Buffer>();
  const available = [];
  for (const { name, title } of REFERENCED) {
    let spec: object;
    try {
      spec = await loadSpec(name);
    } catch {
      continue; // a spec not written yet is simply not listed
    }
    available.push({ name, title });
    const json = JSON.stringify(spec).replace(/</g, '\\u003c');
    files.set(`${name}.html`, page(title, `<div id="redoc"></div><script src="redoc.standalone.js"></script><script>Redoc.init(${json}, {hideDownloadButton: false, expandResponses: "200,201"}, document.getElementById("redoc"));</script>`));
  }
  const links = available.map(({ name, title }) => `<li><a href="${name}.html">${title}</a> — <a href="../openapi/${name}.yaml">${name}.yaml</a></li>`).join('');
  files.set('index.html', page('alipayplus-acqp API reference', `<main><h1>alipayplus-acqp API reference</h1><ul>${links}</ul></main>`));
  const require = createRequire(import.meta.url);
  files.set('redoc.standalone.js', readFileSync(require.resolve('redoc/bundles/redoc.standalone.js')));
  return files;
}

/** Rendered on the first visit, not at boot: most gateways never serve a page of it. */
export function docsRouter(): Router {
  let rendered: Promise<Map<string, string | Buffer>> | undefined;
  const files = () => (rendered ??= renderReference());
  const router = express.Router({ strict: true }); // '/docs' and '/docs/' are different routes here
  router.get('/docs', (_req, res) => res.redirect(301, '/docs/'));
  router.get('/docs/', async (_req, res) => {
    res.type('html').send((await files()).get('index.html'));
  });
  router.get('/docs/:file', async (req, res) => {
    const file = (await files()).get(req.params.file);
    if (!file) return res.status(404).type('text/plain').send('no such page');
    res.type(req.params.file.endsWith('.js') ? 'application/javascript' : 'html').send(file);
  });
  return router;
}
