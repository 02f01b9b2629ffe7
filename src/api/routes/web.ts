import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RequestHandler, Router } from 'express';
import type { Config } from '../../config.ts';
import { createWebBundle } from './webBundle.ts';

/** Where the page lives in the repository. */
export const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

export interface WebDeps {
  /** Auth mode decides the sign-in form; `PUBLIC_URL` widens `connect-src`. */
  readonly config: Pick<Config, 'auth' | 'publicUrl'>;
  /**
   * Where negotiate sends browsers instead of this service: Azure SignalR Service's client
   * endpoint (`ClientEndpoint`, else `Endpoint` with `Port`). Its origin, port included, is
   * added to `connect-src`. Defaults to none (the embedded hub is same-origin).
   */
  readonly hubClientEndpoint?: string;
}

/**
 * The web page, served by the service itself (no CDN, works offline):
 * - `GET /` (jobs list) and `GET /job/{job_id}` (job view): `web/index.html`;
 * - `GET /assets/app.js`: `web/src` bundled in memory with `@statuscast/client` and the
 *   SignalR client it uses (see `webBundle.ts`);
 * - `GET /assets/app.css`, `/assets/favicon.svg`: from `web/assets`;
 * - `GET /config.json`: what the page must know about the service (dev sign-in or not).
 * Every answer carries a CSP without inline scripts or styles and `nosniff`.
 */
export function webRoutes(deps: WebDeps): Router {
  const router = Router();
  const indexHtml = readFileSync(join(WEB_DIR, 'index.html'), 'utf8');
  const pageBundle = createWebBundle(WEB_DIR);
  // Start the first build now so the first page view does not wait for it.
  pageBundle().catch(() => {});
  const headers = securityHeaders(connectSources([deps.config.publicUrl, deps.hubClientEndpoint]));
  const pageConfig = { auth_mode: deps.config.auth.mode, dev_sign_in: deps.config.auth.mode === 'dev' };

  const page: RequestHandler = (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('html').send(indexHtml);
  };
  router.get('/', headers, page);
  router.get('/job/:jobId', headers, page);

  router.get('/config.json', headers, (_req, res) => {
    res.set('Cache-Control', 'no-store').json(pageConfig);
  });

  router.get('/assets/app.js', headers, async (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('text/javascript').send((await pageBundle()).js);
  });
  router.get('/assets/app.js.map', headers, async (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/json').send((await pageBundle()).map);
  });

  for (const file of ['app.css', 'favicon.svg']) {
    router.get(`/assets/${file}`, headers, (_req, res) => {
      res.set('Cache-Control', 'no-cache').sendFile(join(WEB_DIR, 'assets', file));
    });
  }

  return router;
}

/** Same origin, plus the origins (HTTP and WebSocket) of other URLs the page is sent to. */
function connectSources(urls: readonly (string | undefined)[]): string[] {
  const sources = ["'self'"];
  for (const text of urls) {
    if (!text) continue;
    const url = new URL(text);
    sources.push(url.origin, `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`);
  }
  return sources;
}

function securityHeaders(connectSrc: readonly string[]): RequestHandler {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connectSrc.join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return (_req, res, next) => {
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    next();
  };
}
