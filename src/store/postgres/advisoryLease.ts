import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Lease, LeaseHandlers } from '../lease.ts';
import { decodePosition, encodePosition } from '../position.ts';
import { LOCK_NAMESPACE, SCHEMA } from './migrations.ts';

export interface AdvisoryLeaseOptions {
  readonly connection: pg.ClientConfig;
  /** What the lease is for, e.g. `azure-signalr-publisher`; one lock and one saved position per name. */
  readonly name: string;
  /** This node, as recorded beside the saved position (host and pid). */
  readonly holder: string;
  /** How often a node that does not hold the lease tries to take it. Defaults to 1 s. */
  readonly retryMs?: number;
  /** How often the holder checks that its connection (and so its lock) is still there. Defaults to 1 s. */
  readonly checkMs?: number;
  readonly logger?: Logger;
}

/**
 * A `Lease` on a PostgreSQL session-level advisory lock, on a connection of its own: the
 * server holds the lock exactly as long as that connection lives, so a node that dies (or
 * whose connection is ended) loses it at once and another node's next try takes it. The
 * holder learns of a lost connection from the client's error event or, at worst, from its
 * next check, and stops; until then two nodes may both act for up to `checkMs`, so the work
 * must tolerate an occasional repeat (the Azure publisher's sends are de-duplicated by
 * revision in clients).
 */
export function createAdvisoryLease(options: AdvisoryLeaseOptions): Lease {
  const retryMs = options.retryMs ?? 1_000;
  const checkMs = options.checkMs ?? 1_000;
  const { logger, name } = options;
  const key = createHash('sha1').update(name).digest().readInt32BE(0);
  let handlers: LeaseHandlers | undefined;
  let client: pg.Client | undefined;
  let held = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  /** Serializes acquire/lose transitions so the handlers never overlap. */
  let transition: Promise<void> = Promise.resolve();

  function schedule(ms: number): void {
    clearTimeout(timer);
    if (closed) return;
    timer = setTimeout(() => void tick(), ms);
    timer.unref();
  }

  function enqueue(step: () => Promise<void>): Promise<void> {
    transition = transition.then(step, step);
    return transition;
  }

  async function lose(reason: string, error?: unknown): Promise<void> {
    const current = client;
    client = undefined;
    await current?.end().catch(() => undefined);
    if (!held) return;
    held = false;
    logger?.warn({ lease: name, reason, err: error }, 'gave up the lease');
    await Promise.resolve(handlers?.lost()).catch((failure: unknown) => logger?.error({ err: failure }, 'lease lost handler failed'));
  }

  async function connect(): Promise<pg.Client> {
    const next = new pg.Client({ ...options.connection, application_name: 'statuscast:lease', keepAlive: true });
    next.on('error', (error) => {
      if (client === next) void enqueue(() => lose('connection failed', error)).then(() => schedule(retryMs));
    });
    await next.connect();
    client = next;
    return next;
  }

  async function tick(): Promise<void> {
    await enqueue(async () => {
      if (closed) return;
      try {
        if (held) {
          await client!.query('SELECT 1');
          return;
        }
        const connection = client ?? (await connect());
        const { rows } = await connection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE.lease, key]);
        if (!rows[0]?.locked) return;
        const saved = await connection.query<{ position: string | null }>(`SELECT position FROM ${SCHEMA}.leases WHERE name = $1`, [name]);
        await connection.query(
          `INSERT INTO ${SCHEMA}.leases (name, holder) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, updated_at = now()`,
          [name, options.holder],
        );
        held = true;
        const text = saved.rows[0]?.position;
        const resumeAfter = text ? (decodePosition(text) ?? null) : null;
        logger?.info({ lease: name, resume_after: text ?? null }, 'holding the lease');
        await Promise.resolve(handlers?.acquired(resumeAfter)).catch((failure: unknown) =>
          logger?.error({ err: failure }, 'lease acquired handler failed'),
        );
      } catch (error) {
        await lose('query failed', error);
      }
    });
    schedule(held ? checkMs : retryMs);
  }

  return {
    get held() {
      return held;
    },
    run(given) {
      handlers = given;
      void tick();
    },
    async savePosition(position) {
      if (!held || !client) return;
      await client
        .query(`UPDATE ${SCHEMA}.leases SET position = $2, holder = $3, updated_at = now() WHERE name = $1`, [
          name,
          encodePosition(position),
          options.holder,
        ])
        .catch((error: unknown) => logger?.warn({ err: error, lease: name }, 'could not save the lease position'));
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await enqueue(async () => {
        if (held) {
          // Told while still holding, so the handler can save its last position before the lock goes.
          await Promise.resolve(handlers?.lost()).catch(() => undefined);
          held = false;
        }
        const current = client;
        client = undefined;
        await current?.end().catch(() => undefined);
      });
    },
  };
}
