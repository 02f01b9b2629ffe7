import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/testServer.ts';

describe('web routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('serves the page at / and /job/{id} with a CSP that allows no inline script or style', async () => {
    for (const path of ['/', '/job/job-42']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await response.text();
      expect(html).toContain('<script type="module" src="/assets/app.js">');
      // No inline script: every <script> has a src.
      expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    }
  });

  it('serves the page bundle compiled from web/src with @statuscast/client and the SignalR client in it, with a source map', async () => {
    const js = await fetch(`${server.url}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    const code = await js.text();
    expect(code).toContain('//# sourceMappingURL=app.js.map');
    const map = await fetch(`${server.url}/assets/app.js.map`);
    const sources: string[] = JSON.parse(await map.text()).sources;
    expect(sources.some((s) => s.endsWith('/src/main.ts'))).toBe(true);
    expect(sources.some((s) => s.endsWith('packages/client/src/followJob.ts'))).toBe(true);
    expect(sources.some((s) => s.includes('@microsoft/signalr/src/HubConnection.ts'))).toBe(true);
  });

  it('serves the stylesheet', async () => {
    const css = await fetch(`${server.url}/assets/app.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves nothing else from the repository', async () => {
    for (const path of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/web/index.html', '/assets/src/main.ts']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
    }
  });

  it('tells the page that dev sign-in is available in dev mode', async () => {
    const response = await fetch(`${server.url}/config.json`);
    expect(await response.json()).toEqual({ auth_mode: 'dev', dev_sign_in: true });
  });
});

describe('web routes in JWKS mode', () => {
  it('offers no dev sign-in and lets the page reach the Azure SignalR endpoint', async () => {
    const server = await startTestServer({
      AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
      AUTH_ISSUER: 'https://issuer.example/',
      AUTH_AUDIENCE: 'statuscast',
      AZURE_SIGNALR_CONNECTION_STRING: 'Endpoint=https://demo.service.signalr.net;AccessKey=a2V5;Version=1.0;',
    });
    try {
      const response = await fetch(`${server.url}/config.json`);
      expect(await response.json()).toEqual({ auth_mode: 'jwks', dev_sign_in: false });
      expect(response.headers.get('content-security-policy')).toContain(
        "connect-src 'self' https://demo.service.signalr.net wss://demo.service.signalr.net",
      );
    } finally {
      await server.close();
    }
  });
});

describe('connect-src in Azure SignalR serverless mode', () => {
  // CSP host sources without a port match only the scheme's default port.
  it.each([
    ['Endpoint with Port', 'Endpoint=http://127.0.0.1;Port=8089;AccessKey=a2V5;Version=1.0;', 'http://127.0.0.1:8089 ws://127.0.0.1:8089'],
    [
      'ClientEndpoint',
      'Endpoint=https://demo.service.signalr.net;ClientEndpoint=https://signalr.example.com:8443;AccessKey=a2V5;Version=1.0;',
      'https://signalr.example.com:8443 wss://signalr.example.com:8443',
    ],
  ])('allows the origin clients are sent to, port included (%s)', async (_name, connectionString, sources) => {
    const server = await startTestServer({ AZURE_SIGNALR_CONNECTION_STRING: connectionString });
    try {
      const response = await fetch(`${server.url}/config.json`);
      expect(response.headers.get('content-security-policy')).toContain(`connect-src 'self' ${sources};`);
    } finally {
      await server.close();
    }
  });
});
