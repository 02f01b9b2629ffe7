import type Database from 'better-sqlite3';

/** Durability of a commit: `full` survives power loss, `normal` survives a process kill. */
export type SqliteSync = 'full' | 'normal';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY,
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  id          TEXT    NOT NULL UNIQUE,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
`;

export function openSqliteEventDatabase(
  DatabaseCtor: typeof Database,
  file: string,
  sync: SqliteSync,
): Database.Database {
  const db = new DatabaseCtor(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
