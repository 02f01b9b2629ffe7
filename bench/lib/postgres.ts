import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server the `…Postgres` scenarios run statuscast against: the machine's own
 * (127.0.0.1:5432, user postgres), or `BENCH_POSTGRES_URL` (a user allowed to create databases).
 */
const SERVER_URL = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs `work` with the URL of a fresh `statuscast_bench_<random>` database, dropped afterwards. */
export async function withBenchDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `statuscast_bench_${randomBytes(5).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`).catch((error: unknown) => {
    throw new Error(`PostgreSQL is not reachable at ${SERVER_URL} (${(error as Error).message}); start it or set BENCH_POSTGRES_URL`);
  });
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
