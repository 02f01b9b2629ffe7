import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.ts';
import { cors } from './cors.ts';
import { problemHandler } from './problemDetails.ts';
import { requestLog } from './requestLog.ts';

export interface AppOptions {
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  /** Route groups, mounted in order. */
  readonly routers: readonly Router[];
  /** Mounted before the routers (e.g. the hub's HTTP endpoints, static files). */
  readonly before?: readonly express.RequestHandler[];
}

/** The express application: request log, CORS, routes, then one problem+json error handler. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLog(options.logger));
  app.use(cors(options.corsOrigins));
  for (const handler of options.before ?? []) app.use(handler);
  for (const router of options.routers) app.use(router);
  app.use((req) => {
    throw new NotFoundError(`No route for ${req.method} ${req.path}.`);
  });
  app.use(problemHandler(options.logger));
  return app;
}
