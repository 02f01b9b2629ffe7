/**
 * Entry of the embedded stores' writer thread (see `sqliteCommitter.ts`): holds the write
 * connection of every store of the process, so the fsync of each group commit blocks this
 * thread instead of the event loop.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import type { StreamAppend } from '../eventStore.ts';
import { openSqliteEventDatabase, type SqliteSync } from './schema.ts';
import { type CallOutcome, createSqliteWriter, type SqliteWriter } from './sqliteWriter.ts';

export type WriterRequest =
  | { readonly kind: 'open'; readonly id: number; readonly store: number; readonly file: string; readonly sync: SqliteSync }
  | { readonly kind: 'commit'; readonly id: number; readonly store: number; readonly calls: readonly (readonly StreamAppend[])[]; readonly recordedAt: number }
  | { readonly kind: 'close'; readonly id: number; readonly store: number };

export type WriterReply =
  | { readonly id: number; readonly ok: true; readonly outcomes?: CallOutcome[] }
  | { readonly id: number; readonly ok: false; readonly message: string };

const port = parentPort!;
const stores = new Map<number, { db: Database.Database; writer: SqliteWriter }>();

function handle(request: WriterRequest): CallOutcome[] | undefined {
  if (request.kind === 'open') {
    const db = openSqliteEventDatabase(Database, request.file, request.sync);
    db.defaultSafeIntegers(false);
    stores.set(request.store, { db, writer: createSqliteWriter(db) });
    return undefined;
  }
  const store = stores.get(request.store);
  if (!store) throw new Error(`store ${request.store} is not open on the writer thread`);
  if (request.kind === 'close') {
    stores.delete(request.store);
    store.db.close();
    return undefined;
  }
  return store.writer.writeGroup(request.calls, request.recordedAt);
}

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    const outcomes = handle(request);
    reply = outcomes ? { id: request.id, ok: true, outcomes } : { id: request.id, ok: true };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
