import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Lease } from './lease.ts';

/**
 * A lease for work one node does for the whole deployment, when the store can hold one:
 * PostgreSQL (an advisory lock). With the embedded store there is one node, and EventStoreDB
 * has no locks: `undefined`, and the caller does the work on every node.
 */
export async function createLease(config: Config, name: string, logger: Logger): Promise<Lease | undefined> {
  if (!config.postgres) return undefined;
  const { createAdvisoryLease, postgresConnection } = await import('./postgres/index.ts');
  return createAdvisoryLease({
    connection: postgresConnection(config.postgres.url, config.postgres.statementTimeoutMs),
    name,
    holder: `${hostname()}:${process.pid}`,
    logger: logger.child({ component: 'lease' }),
  });
}
