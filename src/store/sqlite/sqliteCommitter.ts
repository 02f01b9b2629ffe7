import type Database from 'better-sqlite3';
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StreamAppend } from '../eventStore.ts';
import type { SqliteSync } from './schema.ts';
import { type CallOutcome, createSqliteWriter } from './sqliteWriter.ts';
import type { WriterReply, WriterRequest } from './writerThread.ts';

/** Commits a group of `appendToStreams` calls; rejects when nothing of the group was written. */
export interface SqliteCommitter {
  commit(calls: readonly (readonly StreamAppend[])[], recordedAt: number): Promise<CallOutcome[]>;
  close(): Promise<void>;
}

/** Writes on the caller's connection, blocking the event loop for the fsync (`:memory:`). */
export function inlineCommitter(db: Database.Database): SqliteCommitter {
  const writer = createSqliteWriter(db);
  return {
    commit: async (calls, recordedAt) => writer.writeGroup(calls, recordedAt),
    close: async () => {},
  };
}

/**
 * Writes on a connection of its own in the process's writer thread. A commit with
 * `synchronous=FULL` waits for the disk; on the event loop that wait stops every socket, and
 * the requests that pile up meanwhile arrive spread over the following turns, each turn paying
 * a commit of its own. On the thread, the loop goes on parsing and deciding while the disk
 * flushes, and everything that arrived meanwhile shares the next commit.
 */
export function threadCommitter(file: string, sync: SqliteSync): SqliteCommitter {
  const store = ++lastStore;
  /** The thread this store's connection was opened on; a new thread (the old one died) opens it again. */
  let openOn: WriterThread | undefined;

  function ensureOpen(): WriterThread {
    const thread = writerThread();
    if (openOn !== thread) {
      openOn = thread;
      // Not awaited: the thread handles requests in order, so a failed open fails the commit after it.
      thread.request({ kind: 'open', id: 0, store, file, sync }).catch(() => {});
    }
    return thread;
  }

  // Opened at once: the first append need not wait for the thread to start.
  ensureOpen();

  return {
    async commit(calls, recordedAt) {
      const outcomes = await ensureOpen().request({ kind: 'commit', id: 0, store, calls, recordedAt });
      return outcomes!;
    },
    async close() {
      const thread = openOn;
      openOn = undefined;
      if (thread && thread === current) await thread.request({ kind: 'close', id: 0, store }).catch(() => {});
    },
  };
}

interface WriterThread {
  request(request: WriterRequest): Promise<CallOutcome[] | undefined>;
}

let lastStore = 0;
let current: WriterThread | undefined;

/** One thread for every store of the process: starting one costs far more than a connection. */
function writerThread(): WriterThread {
  if (current) return current;
  const worker = new Worker(writerThreadCode(), { eval: true });
  const waiting = new Map<number, { resolve(outcomes: CallOutcome[] | undefined): void; reject(error: Error): void }>();
  let nextId = 0;
  // Referenced only while a request is outstanding, so an idle thread never keeps the process alive.
  worker.unref();
  worker.on('message', (reply: WriterReply) => {
    const call = waiting.get(reply.id);
    if (!call) return;
    waiting.delete(reply.id);
    if (waiting.size === 0) worker.unref();
    if (reply.ok) call.resolve(reply.outcomes);
    else call.reject(new Error(reply.message));
  });
  const thread: WriterThread = {
    request(request) {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ ...request, id });
      });
    },
  };
  const lost = (error: Error) => {
    if (current === thread) current = undefined;
    for (const call of waiting.values()) call.reject(error);
    waiting.clear();
  };
  worker.on('error', lost);
  worker.on('exit', (code) => lost(new Error(`the SQLite writer thread exited (code ${code})`)));
  current = thread;
  return thread;
}

let bundled: string | undefined;

/**
 * The writer thread's code: `writerThread.ts` and what it imports, bundled once per process by
 * esbuild into one CommonJS script. Node 20 cannot load TypeScript in a worker by itself (loader
 * flags in a worker's `execArgv` are not honoured, and vitest's processes carry none).
 * better-sqlite3 stays outside, required from this module's location.
 */
function writerThreadCode(): string {
  if (bundled) return bundled;
  const entry = fileURLToPath(new URL('./writerThread.ts', import.meta.url));
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  // An evaluated worker resolves `require` from the working directory; resolve from here instead.
  bundled = `(function (require) {\n${code}\n})(require('node:module').createRequire(${JSON.stringify(entry)}));`;
  return bundled;
}
