import { ConfigError, isLoopback, loadConfig } from './config.ts';
import { startServer } from './server.ts';

/** Process entry point: validated config, the server, and signal handling. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`statuscast: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const server = await startServer(config);
  const { logger } = server;
  const auth = config.auth.mode === 'dev' ? 'dev mode (the service issues its own tokens)' : `JWKS ${config.auth.jwksUrl}`;
  logger.info({ url: server.url, data_dir: config.dataDir, auth: config.auth.mode }, 'statuscast is listening');
  if (config.auth.mode === 'dev' && !isLoopback(config.host)) {
    logger.warn('AUTH_DEV_MODE=allow-network: anyone who reaches this service can mint admin tokens; never expose it beyond a trusted network');
  }
  process.stdout.write(
    [
      '',
      `  statuscast is running at ${server.url}`,
      `    web page        ${server.url}/`,
      `    health          ${server.url}/healthz  ·  metrics ${server.url}/metrics`,
      `    auth            ${auth}`,
      ...(config.auth.mode === 'dev'
        ? [`    a token         npm run token -- --sub alice --roles publisher`]
        : []),
      `    data            ${config.dataDir}`,
      '',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A source that can never work as configured (a session-enabled subscription) ends the process.
  void server.serviceBus?.failed.then((reason) => {
    console.error(`statuscast: ${reason.message}`);
    if (stopping) return;
    stopping = true;
    server.close().finally(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  console.error('statuscast failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
