import Database from 'better-sqlite3';

export type ReadModelDatabase = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq        INTEGER PRIMARY KEY,
  job_id     TEXT    NOT NULL UNIQUE,
  owner      TEXT    NOT NULL,
  meta       TEXT    NOT NULL,
  created_at TEXT    NOT NULL,
  updated_at TEXT    NOT NULL,
  revision   INTEGER NOT NULL,
  latest     TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, seq);
CREATE TABLE IF NOT EXISTS timeline (
  job_id   TEXT    NOT NULL,
  revision INTEGER NOT NULL,
  entry    TEXT    NOT NULL,
  PRIMARY KEY (job_id, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT PRIMARY KEY,
  position TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * Opens the read-model database (a SQLite file beside the event store). Read models can
 * always be rebuilt from the store, so commits use `synchronous=NORMAL`: a crash may lose
 * the newest rows, but their checkpoint goes with them in the same transaction.
 */
export function openReadModelDatabase(file: string): ReadModelDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
