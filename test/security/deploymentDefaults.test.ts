import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { ROOT, runTs } from '../support/childProcess.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

const JWKS = { AUTH_JWKS_URL: 'https://login.example.com/.well-known/jwks.json', AUTH_ISSUER: 'https://login.example.com/', AUTH_AUDIENCE: 'statuscast' };

function configFailure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('dev mode is never reachable from the network by accident', () => {
  it.each(['0.0.0.0', '::', '10.1.2.3', 'statuscast.example.com'])('refuses dev-mode auth on HOST=%s', (host) => {
    expect(configFailure({ HOST: host })).toMatch(/^invalid configuration: HOST .*AUTH_DEV_MODE=allow-network/);
  });

  it.each(['127.0.0.1', '127.1.2.3', '::1', 'localhost'])('runs dev mode on the loopback address %s', (host) => {
    expect(loadConfig({ HOST: host }).auth.mode).toBe('dev');
  });

  it('runs dev mode on the network only when told so explicitly, and any HOST with an identity provider', () => {
    expect(loadConfig({ HOST: '0.0.0.0', AUTH_DEV_MODE: 'allow-network' }).auth.mode).toBe('dev');
    expect(loadConfig({ HOST: '0.0.0.0', ...JWKS }).auth.mode).toBe('jwks');
    expect(configFailure({ AUTH_DEV_MODE: 'yes' })).toMatch(/^invalid configuration: AUTH_DEV_MODE/);
  });

  it('the service stops at start with exit 2 and one line naming the fix (as the Dockerfile would run it)', async () => {
    const dir = makeTempDir('devmode');
    try {
      const { code, stdout, stderr } = await runTs('src/main.ts', [], { HOST: '0.0.0.0', PORT: '0', DATA_DIR: dir.path });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^statuscast: invalid configuration: HOST .*AUTH_JWKS_URL.*AUTH_DEV_MODE=allow-network/);
    } finally {
      dir.remove();
    }
  });
});

describe('no published stream-token secret is accepted', () => {
  /** Every literal value given to STREAM_TOKEN_SECRET in the repository's files (docs, compose, examples). */
  function publishedValues(): string[] {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => f && !f.startsWith('bench/results/'));
    const values = new Set<string>();
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), 'utf8');
      } catch {
        continue;
      }
      for (const match of text.matchAll(/STREAM_TOKEN_SECRET["']?\s*[:=]\s*["']?(?:\$\{STREAM_TOKEN_SECRET:?-)?([A-Za-z0-9+/=_.~-]{32,})/g)) values.add(match[1]!);
    }
    return [...values];
  }

  it('refuses the value docker-compose used to default to', () => {
    expect(configFailure({ STREAM_TOKEN_SECRET: 'dev-only-stream-token-secret-change-me-0123456789' })).toMatch(
      /^invalid configuration: STREAM_TOKEN_SECRET is published/,
    );
  });

  it('refuses every value written in the repository', () => {
    const values = publishedValues();
    for (const value of values) expect(configFailure({ STREAM_TOKEN_SECRET: value })).toMatch(/STREAM_TOKEN_SECRET is published/);
  });

  it('accepts a secret of its own', () => {
    // Generated here: a literal in this file would be published, and refused.
    expect(loadConfig({ STREAM_TOKEN_SECRET: randomBytes(32).toString('base64url') }).streamTokenSecret).toBeDefined();
  });
});

describe('dev mode answers only to loopback names (DNS rebinding)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Node's fetch will not let a test set Host, so the raw request is written by hand. */
  async function withHost(host: string, path: string, method = 'GET'): Promise<number> {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: t.server.port, path, method, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('refuses a request whose Host is a DNS name other than localhost', async () => {
    expect(await withHost('attacker.example', '/config.json')).toBe(403);
    expect(await withHost('attacker.example', '/dev/tokens', 'POST')).toBe(403);
    expect(await withHost('attacker.example:3000', '/hubs/status/negotiate?negotiateVersion=1', 'POST')).toBe(403);
    // The stream paths are served before express (src/api/streamRequests.ts): the same guard.
    expect(await withHost('attacker.example', '/events')).toBe(403);
    expect(await withHost('attacker.example', '/jobs/job-1/events')).toBe(403);
    expect(await withHost('attacker.example', '/hubs/status?id=x')).toBe(403);
    // Ingest is served in front of express (ingestFastPath.ts); the guard holds there too.
    expect(await withHost('attacker.example', '/ingest/status', 'POST')).toBe(403);
  });

  it('serves loopback names and IP literals', async () => {
    expect(await withHost(`localhost:${t.server.port}`, '/config.json')).toBe(200);
    expect(await withHost(`127.0.0.1:${t.server.port}`, '/config.json')).toBe(200);
    expect(await withHost(`[::1]:${t.server.port}`, '/config.json')).toBe(200);
  });

  it('refuses a WebSocket upgrade with a foreign Host', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${t.server.port}/hubs/status?id=x`, { headers: { host: 'attacker.example' } });
    const status = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
      socket.once('open', () => resolve(101));
      socket.once('error', () => resolve(-1));
    });
    socket.terminate();
    expect(status).toBe(403);
  });
});
