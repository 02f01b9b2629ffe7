import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { PUBLISHED_STREAM_TOKEN_SECRETS } from './auth/publishedSecrets.ts';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const url = (protocols: readonly string[]) =>
  optionalText.refine(
    (value) => value === undefined || (URL.canParse(value) && protocols.includes(new URL(value).protocol)),
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

const environmentSchema = z
  .object({
    PORT: integer(3000, 0, 65535),
    HOST: optionalText.transform((v) => v ?? '127.0.0.1'),
    DATA_DIR: optionalText.transform((v) => resolve(v ?? './data')),
    EVENTSTORE_CONNECTION_STRING: optionalText.refine(
      (v) => v === undefined || /^(esdb|kurrentdb|kurrent|kdb)(\+discover)?:\/\//.test(v),
      { message: 'must start with esdb:// or kurrentdb://' },
    ),
    DATABASE_URL: optionalText.refine(
      (v) => v === undefined || (URL.canParse(v) && ['postgres:', 'postgresql:'].includes(new URL(v).protocol)),
      { message: 'must be a PostgreSQL URL (postgres://user@host:5432/database)' },
    ),
    DATABASE_POOL_MAX: integer(10, 1, 1000),
    DATABASE_STATEMENT_TIMEOUT_MS: integer(5_000, 100, 600_000),
    SERVICEBUS_CONNECTION_STRING: optionalText.refine((v) => v === undefined || /Endpoint=sb:\/\//i.test(v), {
      message: 'must be a Service Bus connection string (Endpoint=sb://…)',
    }),
    SERVICEBUS_TOPIC: optionalText.transform((v) => v ?? 'status'),
    SERVICEBUS_SUBSCRIPTION: optionalText.transform((v) => v ?? 'realtime'),
    AZURE_SIGNALR_CONNECTION_STRING: optionalText.refine(
      (v) => v === undefined || (/Endpoint=https?:\/\//i.test(v) && /AccessKey=/i.test(v)),
      { message: 'must be an Azure SignalR connection string with Endpoint= and AccessKey=' },
    ),
    AUTH_JWKS_URL: url(['https:', 'http:']),
    AUTH_ISSUER: optionalText,
    AUTH_AUDIENCE: optionalText,
    AUTH_ROLES_CLAIM: optionalText.transform((v) => v ?? 'roles'),
    AUTH_DEV_MODE: z
      .enum(['allow-network'], { message: 'must be "allow-network" (or unset)' })
      .optional()
      .or(z.literal('').transform(() => undefined)),
    PUBLIC_URL: url(['https:', 'http:']).transform((v) => v?.replace(/\/+$/, '')),
    READY_MAX_LAG: integer(1000, 0, 10_000_000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .optional()
      .transform((v) => v ?? 'info'),
    STREAM_TOKEN_SECRET: optionalText
      .refine((v) => v === undefined || v.length >= 32, { message: 'must be at least 32 characters' })
      .refine((v) => v === undefined || !PUBLISHED_STREAM_TOKEN_SECRETS.has(v), {
        message: 'is published in the statuscast repository, so anyone could forge stream tokens: generate one (openssl rand -base64 48)',
      }),
    STREAM_TOKEN_TTL_SECONDS: integer(600, 30, 600),
    STORE_SYNC: z
      .enum(['full', 'normal'])
      .optional()
      .transform((v) => v ?? 'full'),
    CORS_ORIGINS: optionalText.transform((v) => (v ? v.split(',').map((o) => o.trim()).filter(Boolean) : [])),
    SHUTDOWN_GRACE_MS: integer(10_000, 0, 120_000),
    MAX_CONNECTIONS_PER_USER: integer(100, 1, 1_000_000),
    MAX_SUBSCRIPTIONS_PER_USER: integer(1_000, 1, 10_000_000),
    AUDIT_SIGNING_KEY: optionalText.refine(
      (v) => v === undefined || v.includes('-----BEGIN PRIVATE KEY-----') || (v.startsWith('{') && isJson(v)),
      { message: 'must be a PKCS#8 PEM private key or a private JWK (Ed25519 or P-256)' },
    ),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_URL && env.EVENTSTORE_CONNECTION_STRING) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'and EVENTSTORE_CONNECTION_STRING name two event stores; set one' });
    }
    if (env.AUTH_JWKS_URL) {
      for (const key of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when AUTH_JWKS_URL is set' });
      }
    } else if (!isLoopback(env.HOST) && env.AUTH_DEV_MODE !== 'allow-network') {
      // Dev mode mints admin tokens for anyone who asks: on a network that is everyone.
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: `is "${env.HOST}", not loopback, and without AUTH_JWKS_URL anyone who reaches it can mint admin tokens (dev mode): set AUTH_JWKS_URL (with AUTH_ISSUER and AUTH_AUDIENCE), or HOST=127.0.0.1, or AUTH_DEV_MODE=allow-network to accept that`,
      });
    }
  });

/** Loopback only: `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(host);
}

export type Environment = z.output<typeof environmentSchema>;

/** The validated configuration every part of the service is built from. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly eventStoreConnectionString: string | undefined;
  /** PostgreSQL as the event store (`DATABASE_URL`), with its pool bounds. */
  readonly postgres:
    | { readonly url: string; readonly poolMax: number; readonly statementTimeoutMs: number }
    | undefined;
  readonly serviceBus:
    | { readonly connectionString: string; readonly topic: string; readonly subscription: string }
    | undefined;
  readonly azureSignalRConnectionString: string | undefined;
  readonly auth:
    | { readonly mode: 'jwks'; readonly jwksUrl: string; readonly issuer: string; readonly audience: string; readonly rolesClaim: string }
    | { readonly mode: 'dev'; readonly rolesClaim: string; readonly allowNetwork: boolean };
  readonly publicUrl: string | undefined;
  readonly readyMaxLag: number;
  readonly logLevel: Environment['LOG_LEVEL'];
  readonly streamTokenSecret: string | undefined;
  readonly streamTokenTtlSeconds: number;
  readonly storeSync: 'full' | 'normal';
  readonly corsOrigins: readonly string[];
  readonly shutdownGraceMs: number;
  /** Open SSE streams and SignalR connections one user may hold on one node. */
  readonly maxConnectionsPerUser: number;
  /** Live subscriptions (SSE streams, hub Subscribe/SubscribeFeed) one user may hold on one node. */
  readonly maxSubscriptionsPerUser: number;
  /** Signs audit checkpoints; `undefined`: a key kept in `dataDir` (docs/audit.md). */
  readonly auditSigningKey: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the configuration from the environment. Throws `ConfigError` whose message is
 * one line naming the first bad variable, for `main` to print before exiting.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.') || 'environment'} ${issue.message}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    eventStoreConnectionString: e.EVENTSTORE_CONNECTION_STRING,
    postgres: e.DATABASE_URL
      ? { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS }
      : undefined,
    serviceBus: e.SERVICEBUS_CONNECTION_STRING
      ? { connectionString: e.SERVICEBUS_CONNECTION_STRING, topic: e.SERVICEBUS_TOPIC, subscription: e.SERVICEBUS_SUBSCRIPTION }
      : undefined,
    azureSignalRConnectionString: e.AZURE_SIGNALR_CONNECTION_STRING,
    auth: e.AUTH_JWKS_URL
      ? { mode: 'jwks', jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_ISSUER!, audience: e.AUTH_AUDIENCE!, rolesClaim: e.AUTH_ROLES_CLAIM }
      : { mode: 'dev', rolesClaim: e.AUTH_ROLES_CLAIM, allowNetwork: e.AUTH_DEV_MODE === 'allow-network' },
    publicUrl: e.PUBLIC_URL,
    readyMaxLag: e.READY_MAX_LAG,
    logLevel: e.LOG_LEVEL,
    streamTokenSecret: e.STREAM_TOKEN_SECRET,
    streamTokenTtlSeconds: e.STREAM_TOKEN_TTL_SECONDS,
    storeSync: e.STORE_SYNC,
    corsOrigins: e.CORS_ORIGINS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    maxSubscriptionsPerUser: e.MAX_SUBSCRIPTIONS_PER_USER,
    auditSigningKey: e.AUDIT_SIGNING_KEY,
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
