import { ConfigError, loadConfig } from '../config.ts';

/**
 * `npm run migrate`: brings the PostgreSQL schema named by `DATABASE_URL` up to date and
 * exits, for deployments that migrate before rolling out nodes. The service runs the same
 * migrations when it starts, so this step is optional; running it twice does nothing.
 */
try {
  const config = loadConfig();
  if (!config.postgres) {
    console.error('statuscast: DATABASE_URL is not set; only the PostgreSQL store has migrations');
    process.exit(2);
  }
  const { migrate } = await import('../store/postgres/index.ts');
  const { postgresConnection } = await import('../store/postgres/postgresConnection.ts');
  const report = await migrate(postgresConnection(config.postgres.url, config.postgres.statementTimeoutMs));
  process.stdout.write(
    report.applied.length === 0
      ? `schema is up to date (version ${report.current})\n`
      : `applied migrations ${report.applied.join(', ')}; schema is at version ${report.current}\n`,
  );
} catch (error) {
  console.error(`statuscast: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
