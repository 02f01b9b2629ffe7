import type { ServerResponse } from 'node:http';
import type { HubIdentity } from './hubDefinition.ts';
import { queryValue } from './hubRequest.ts';
import type { HubServerContext } from './hubServerContext.ts';

/** The highest negotiate protocol version this server speaks. */
const NEGOTIATE_VERSION = 1;

const TRANSFER_FORMATS = {
  WebSockets: ['Text', 'Binary'],
  ServerSentEvents: ['Text'],
  LongPolling: ['Text', 'Binary'],
} as const;

/**
 * `POST <hub>/negotiate`: creates a connection and lists the transports in the server's
 * order. Version 1 hands out a secret `connectionToken` besides the public `connectionId`;
 * `useStatefulReconnect` is answered only to clients that asked for it.
 */
export function negotiate<TUser, TSession>(
  context: HubServerContext<TUser, TSession>,
  identity: HubIdentity<TUser>,
  query: URLSearchParams,
  res: ServerResponse,
): void {
  const requested = queryValue(query, 'negotiateVersion');
  const version = requested === null ? 0 : Number(requested);
  if (!Number.isInteger(version)) return writeJson(res, 200, { error: 'The client requested a non-integer protocol version.' });
  const negotiateVersion = Math.min(Math.max(version, 0), NEGOTIATE_VERSION);
  const stateful = context.statefulReconnect && queryValue(query, 'useStatefulReconnect')?.toLowerCase() === 'true';
  const connection = context.createConnection(identity, negotiateVersion, stateful);
  writeJson(res, 200, {
    negotiateVersion,
    connectionId: connection.connectionId,
    ...(negotiateVersion >= 1 ? { connectionToken: connection.token } : {}),
    availableTransports: context.transports.map((transport) => ({ transport, transferFormats: TRANSFER_FORMATS[transport] })),
    ...(stateful ? { useStatefulReconnect: true } : {}),
  });
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
