/** Operations endpoints, outside /v1 and without auth: liveness, readiness and the raw specs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';
import type { Metrics } from '../metrics.js';
import { SPEC_DIR, SPEC_NAMES } from './specs.js';

export function operationsRouter(ready: () => Promise<boolean>, metrics: Metrics): Router {
  const router = express.Router();
  const specs = new Map(SPEC_NAMES.filter((name) => existsSync(join(SPEC_DIR, `${name}.yaml`))).map((name) => [`${name}.yaml`, readFileSync(join(SPEC_DIR, `${name}.yaml`))]));

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ok = await ready();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unavailable', database: ok ? 'ok' : 'unreachable or not migrated' });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  router.get('/openapi/:file', (req, res) => {
    const spec = specs.get(req.params.file);
    if (!spec) return res.status(404).type('text/plain').send('no such spec');
    res.type('application/yaml').send(spec);
  });
  return router;
}
