/**
 * Finds out once whether the local Postgres is reachable. Store, HTTP and concurrency suites run on
 * SQLite always and on Postgres when it is; when it is not, they say so loudly instead of passing
 * silently.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const url = process.env.TEST_POSTGRES_URL ?? DEFAULT_TEST_PG_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    project.provide('postgresUrl', url);
  } catch (error) {
    console.warn(`\n*** Postgres not reachable at ${url} (${(error as Error).message}): Postgres variants of the store tests are SKIPPED ***\n`);
    if (process.env.REQUIRE_POSTGRES === 'true') throw new Error('REQUIRE_POSTGRES=true but Postgres is not reachable');
    project.provide('postgresUrl', null);
  } finally {
    await client.end().catch(() => undefined);
  }
}
