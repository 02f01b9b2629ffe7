import pg from 'pg';

/** One schema change. Applied once, in version order, each in its own transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Everything statuscast keeps in PostgreSQL lives in this schema. */
export const SCHEMA = 'statuscast';

/**
 * The schema, as a list that only ever grows: a released migration is never edited, a
 * change is a new version. `statuscast.schema_migrations` records what was applied.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    // `transaction_id` (xid8) with `position` is the order of `$all`: see `readAllPage.ts`
    // for why a sequence alone is not enough. Data and metadata are `json` rather than
    // `jsonb` so that what a caller appended reads back byte for byte (jsonb reorders keys).
    sql: `
      CREATE TABLE ${SCHEMA}.events (
        position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
        stream         text        NOT NULL,
        revision       integer     NOT NULL CHECK (revision >= 0),
        id             text        NOT NULL UNIQUE,
        type           text        NOT NULL,
        data           json        NOT NULL,
        metadata       json        NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream, revision)
      );
      CREATE INDEX events_in_log_order ON ${SCHEMA}.events (transaction_id, position);
    `,
  },
  {
    version: 2,
    name: 'leases',
    // Work that one node at a time does for all (publishing to Azure SignalR Service) and
    // where the next holder resumes it.
    sql: `
      CREATE TABLE ${SCHEMA}.leases (
        name       text        PRIMARY KEY,
        holder     text        NOT NULL,
        position   text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

/** Advisory-lock namespaces (the first key of the two-key form), one per use. */
export const LOCK_NAMESPACE = {
  stream: 0x5c_0001,
  migration: 0x5c_0002,
  lease: 0x5c_0003,
} as const;

export interface MigrationReport {
  /** Versions applied by this call, in order. */
  readonly applied: readonly number[];
  /** The newest version now in the database. */
  readonly current: number;
}

/**
 * Brings the database up to the newest schema this build knows. Idempotent, and safe when
 * several nodes start at once: they queue on an advisory lock, and each applies only what
 * is still missing. A database newer than this build (a rolling upgrade in progress) is
 * left alone, since migrations only ever add.
 */
export async function migrate(connection: pg.ClientConfig): Promise<MigrationReport> {
  const client = new pg.Client({ ...connection, application_name: 'statuscast:migrate', statement_timeout: 300_000 });
  // An error on an idle client would otherwise be thrown from an event emitter.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, 0)', [LOCK_NAMESPACE.migration]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${SCHEMA}.schema_migrations`);
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(migration.version);
      done.add(migration.version);
    }
    await client.query('SELECT pg_advisory_unlock($1, 0)', [LOCK_NAMESPACE.migration]);
    return { applied, current: Math.max(0, ...done) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
