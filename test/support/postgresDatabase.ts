import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The real PostgreSQL server every machine runs (see docs); override with
 * `STATUSCAST_TEST_POSTGRES_URL` to point the tests at another one. The user must be allowed
 * to create databases.
 */
export const POSTGRES_SERVER_URL = process.env['STATUSCAST_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  /** The connection string of the new database. */
  readonly url: string;
  /** Runs SQL in the new database on a short-lived connection of its own. */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /**
   * Ends every connection to this database but the caller's own, as a restart would (and
   * without touching other databases on the shared server). Returns how many it ended.
   */
  terminateConnections(applicationName?: string): Promise<number>;
  /** While false, the server refuses new connections to this database (an outage of it alone). */
  allowConnections(allowed: boolean): Promise<void>;
  /** Drops the database, ending whatever is still connected. */
  drop(): Promise<void>;
}

/** Creates `statuscast_<random>` on the test server; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `statuscast_${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async sql(text, values) {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async terminateConnections(applicationName) {
      const rows = await onServer((client) =>
        client.query<{ ended: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2::text IS NULL OR application_name = $2)`,
          [name, applicationName ?? null],
        ),
      );
      return rows.rows.filter((row) => row.ended).length;
    },
    async allowConnections(allowed) {
      await onServer((client) => client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${allowed ? 'true' : 'false'}`));
    },
    async drop() {
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
