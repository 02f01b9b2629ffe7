import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyCors, answerPreflight } from './cors.ts';
import type { HubConnection } from './hubConnection.ts';
import { readBody, respond } from './httpResponses.ts';
import { matchHubRequest } from './hubRequest.ts';
import { findConnection, type HubServerContext } from './hubServerContext.ts';
import { handlePoll } from './longPollingTransport.ts';
import { negotiate } from './negotiate.ts';
import { authenticateRequest, isRejection } from './requestAuthentication.ts';
import { openServerSentEvents } from './serverSentEventsTransport.ts';

/**
 * Routes the hub's plain HTTP requests: negotiate, SSE streams, polls, sends and DELETE.
 * Status codes follow ASP.NET's dispatcher (protocol doc §1). Every request is authenticated
 * first, so an unauthenticated caller learns nothing about connection ids.
 */
export function createHttpDispatcher<TUser, TSession>(context: HubServerContext<TUser, TSession>) {
  return async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const request = matchHubRequest(req, context.path);
    if (request === null) return false;
    try {
      applyCors(req, res, context.allowOrigin);
      if (req.method === 'OPTIONS') {
        answerPreflight(req, res);
        return true;
      }
      const method = req.method ?? 'GET';
      const allowed = request.negotiate ? method === 'POST' : ['GET', 'POST', 'DELETE'].includes(method);
      if (!allowed) {
        respond(res, { status: 405 });
        return true;
      }
      const identity = await authenticateRequest(req, request.query, context.authenticate);
      if (isRejection(identity)) {
        respond(res, identity);
        return true;
      }
      if (request.negotiate) {
        if (context.closing) respond(res, { status: 503, text: 'The server is shutting down.' });
        else negotiate(context, identity, request.query, res);
        return true;
      }
      const connection = findConnection(context, request.query);
      if (isRejection(connection)) {
        respond(res, connection);
        return true;
      }
      if (method === 'GET') {
        if (acceptsEventStream(req)) openServerSentEvents(context, connection, identity, req, res);
        else handlePoll(context, connection, identity, res);
        return true;
      }
      if (identity.userId !== connection.identity.userId) {
        respond(res, { status: 403, text: 'The connection belongs to another user.' });
        return true;
      }
      if (method === 'DELETE') {
        if (connection.selectedTransport !== 'LongPolling') {
          respond(res, { status: 400, text: 'Cannot terminate this connection using the DELETE endpoint.' });
        } else {
          connection.abort('DELETE from the client');
          connection.releaseToken();
          respond(res, { status: 202 });
        }
        return true;
      }
      await receive(context, connection, req, res);
    } catch (error) {
      context.logger.error({ err: error }, 'hub request failed');
      respond(res, { status: 500 });
    }
    return true;
  };
}

/** `POST <hub>?id=…`: data from an SSE or long-polling client. */
async function receive<TUser, TSession>(
  context: HubServerContext<TUser, TSession>,
  connection: HubConnection<TUser, TSession>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (connection.selectedTransport === 'WebSockets') {
    return respond(res, { status: 405, text: 'POST requests are not allowed for WebSocket connections.' });
  }
  if (!connection.isOpen) return respond(res, { status: 404, text: 'No Connection with that ID' });
  if (connection.selectedTransport === null) return respond(res, { status: 400, text: 'The connection has not started a transport.' });
  const body = await readBody(req, context.limits.maxReceiveBytes);
  if (body === null) {
    connection.fail(`Message exceeds the maximum size of ${context.limits.maxReceiveBytes} bytes.`);
    res.setHeader('Connection', 'close');
    return respond(res, { status: 413 });
  }
  connection.receive(body, Date.now());
  respond(res, { status: 200 });
}

function acceptsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes('text/event-stream');
}
