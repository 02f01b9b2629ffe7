import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { StandInClients } from './azureSignalRStandInClients.ts';
import { inspectRestCall, type RestCall } from './azureSignalRStandInRest.ts';

export type { RestCall, RestRoute } from './azureSignalRStandInRest.ts';
export type { ClientTokenCheck, Delivered } from './azureSignalRStandInClients.ts';

/**
 * The largest REST request body the service accepts: 1 MB (a larger message is refused with
 * 413 and never delivered; Azure SignalR Service limits, issue 16). Taken as 1 MiB here, the
 * most a real service could accept, so the stand-in refuses nothing the service would take.
 */
export const MAX_REQUEST_BYTES = 1_048_576;

/** How the stand-in misbehaves, for retry and outage tests. */
export type Outage = { readonly status: number; readonly retryAfterSeconds?: number } | 'hang';

/** A request held back until the test lets it through (see `hold`). */
export interface Held {
  /** Resolves with the call once it has arrived (and been checked). */
  readonly arrived: Promise<RestCall>;
  /** Lets it continue to its normal answer. */
  release(): void;
}

/**
 * A STAND-IN for Azure SignalR Service, on a loopback port: NOT the service. It plays the
 * REST API 2022-06-01 that statuscast calls (group sends, user-group membership) and
 * checks every request the way `inspectRestCall` documents (routes, query, encoding,
 * bodies, JWT signature with the AccessKey, exact `aud`, `exp`); it answers like the service
 * documents (202 for sends, 200 for adding a user to a group, `{code,message,target,details}`
 * errors). Its client endpoint (`/client/?hub=status`) is statuscast's own SignalR hub server
 * behind a check of the client token, so the official client can connect and receive what
 * the REST sends route to it.
 */
export interface AzureSignalRStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `Endpoint=http://127.0.0.1;Port=<port>;AccessKey=<key>;Version=1.0;` */
  readonly connectionString: string;
  /** Base64-looking, as a real key: a token signed with its base64-decoded bytes fails. */
  readonly accessKey: string;
  /** Every REST call in arrival order. */
  readonly calls: readonly RestCall[];
  readonly clients: StandInClients;
  /** Client-endpoint requests (`METHOD path?query`, `access_token` removed), in arrival order. */
  readonly clientRequests: readonly string[];
  /**
   * Destroys every TCP connection that carried client-endpoint traffic (WebSockets, SSE,
   * polls, negotiates), as a service node failing or a network cut would; no Close frame is
   * sent. Returns how many were destroyed.
   */
  dropClients(): number;
  /** Every problem found in any REST call or client token (should stay empty). */
  problems(): string[];
  /** Accepted group sends in arrival order. */
  groupSends(group?: string): RestCall[];
  /**
   * The next `count` REST calls are answered `status` (after being checked and recorded).
   * With `delivered`, a group send reaches the group's connections first: the service can
   * answer 500 for a send that timed out inside it after it was delivered, which is why the
   * official SDK does not repeat a send answered 500.
   */
  failNext(count: number, status?: number, options?: { readonly delivered?: boolean }): void;
  /** Every REST call from now on fails this way (`null`: back to normal). */
  setOutage(outage: Outage | null): void;
  /** Holds the next REST call that `matches` until released. */
  hold(matches: (call: RestCall) => boolean): Held;
  close(): Promise<void>;
}

export async function startAzureSignalRStandIn(options: { readonly hub?: string } = {}): Promise<AzureSignalRStandIn> {
  const hub = options.hub ?? 'status';
  // Base64 text, used as the UTF-8 string the service's HMAC takes (protocol doc §11.2).
  const accessKey = randomBytes(32).toString('base64');
  const calls: RestCall[] = [];
  const clientRequests: string[] = [];
  const hanging = new Set<ServerResponse>();
  const clientSockets = new Set<Socket>();
  const trackClientSocket = (socket: Socket): void => {
    if (clientSockets.has(socket)) return;
    clientSockets.add(socket);
    socket.once('close', () => clientSockets.delete(socket));
  };
  const holds: { matches: (call: RestCall) => boolean; arrived: (call: RestCall) => void; released: Promise<void> }[] = [];
  let failures: { count: number; status: number; delivered: boolean } | null = null;
  let outage: Outage | null = null;
  let seq = 0;

  const clients = new StandInClients(accessKey, `http://127.0.0.1/client/?hub=${hub.toLowerCase()}`);

  async function handleRest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (Buffer.byteLength(body) > MAX_REQUEST_BYTES) {
      // Refused before anything is delivered; recorded like any other call.
      const call = await inspectRestCall(req, body, accessKey, hub, ++seq);
      calls.push(call);
      return answer(res, call, 413, 'RequestEntityTooLarge', undefined, `request body of ${Buffer.byteLength(body)} bytes exceeds ${MAX_REQUEST_BYTES}`);
    }
    const call = await inspectRestCall(req, body, accessKey, hub, ++seq);
    calls.push(call);
    const hold = holds.findIndex((h) => h.matches(call));
    if (hold >= 0) {
      const [held] = holds.splice(hold, 1);
      held!.arrived(call);
      await held!.released;
    }
    if (outage === 'hang') {
      hanging.add(res);
      return;
    }
    if (outage !== null) return answer(res, call, outage.status, 'ServiceUnavailable', outage.retryAfterSeconds);
    if (failures !== null && failures.count > 0) {
      failures.count -= 1;
      if (failures.delivered && call.problems.length === 0 && call.route.kind === 'send-to-group') {
        clients.sendToGroup(call.route.group, call.message!.target, call.message!.arguments);
      }
      const code = failures.status === 429 ? 'TooManyRequests' : failures.status === 500 ? 'InternalServerError' : 'ServiceUnavailable';
      return answer(res, call, failures.status, code);
    }
    if (call.problems.length > 0) {
      const status = call.problems.some((p) => p.startsWith('token') || p.startsWith('no Authorization')) ? 401 : call.route.kind === 'unknown' ? 404 : 400;
      return answer(res, call, status, 'InvalidRequest', undefined, call.problems.join('; '));
    }
    switch (call.route.kind) {
      case 'send-to-group':
        clients.sendToGroup(call.route.group, call.message!.target, call.message!.arguments);
        return answer(res, call, 202);
      case 'add-user-to-group':
        clients.addUserToGroup(call.route.user, call.route.group, call.route.ttl);
        return answer(res, call, 200);
      case 'remove-user-from-group':
        // The service answers 200 whether or not the user was in the group.
        clients.removeUserFromGroup(call.route.user, call.route.group);
        return answer(res, call, 200);
      default:
        return answer(res, call, 404, 'NotFound');
    }
  }

  // Browsers call the client endpoint from the page's origin. The hub server answers CORS
  // (preflights included) for every origin, echoing it with `Allow-Credentials: true` since
  // the official client sends credentials: what the service does with its default CORS
  // setting (allowed origins omitted or "*": every origin may negotiate and connect).
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url?.startsWith('/client')) {
        clientRequests.push(`${req.method} ${withoutToken(req.url)}`);
        trackClientSocket(req.socket);
      }
      if (await clients.hubServer.handleRequest(req, res)) return;
      await handleRest(req, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  server.on('upgrade', (req, socket, head) => {
    clientRequests.push(`UPGRADE ${withoutToken(req.url ?? '')}`);
    trackClientSocket(socket as Socket);
    if (!clients.hubServer.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    // Port given separately, as the doc allows; the audience then has no port (SDK rule).
    connectionString: `Endpoint=http://127.0.0.1;AccessKey=${accessKey};Port=${port};Version=1.0;`,
    accessKey,
    calls,
    clients,
    clientRequests,
    problems: () => [
      ...calls.flatMap((call) => call.problems.map((problem) => `${call.method} ${call.rawUrl}: ${problem}`)),
      ...clients.tokenChecks.flatMap((check) => check.problems.map((problem) => `client token: ${problem}`)),
    ],
    dropClients() {
      const count = clientSockets.size;
      for (const socket of clientSockets) socket.destroy();
      clientSockets.clear();
      return count;
    },
    groupSends: (group) =>
      calls.filter((call) => call.route.kind === 'send-to-group' && call.status === 202 && (group === undefined || call.route.group === group)),
    failNext(count, status = 503, options = {}) {
      failures = { count, status, delivered: options.delivered ?? false };
    },
    setOutage(next) {
      outage = next;
      if (next !== 'hang') for (const res of hanging) res.destroy();
      if (next !== 'hang') hanging.clear();
    },
    hold(matches) {
      let arrived!: (call: RestCall) => void;
      let release!: () => void;
      const arrivedPromise = new Promise<RestCall>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ matches, arrived, released });
      return { arrived: arrivedPromise, release };
    },
    async close() {
      for (const res of hanging) res.destroy();
      await clients.hubServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(res: ServerResponse, call: RestCall, status: number, code?: string, retryAfterSeconds?: number, message?: string): void {
  call.status = status;
  if (status < 300) {
    res.writeHead(status).end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  res.writeHead(status, headers).end(JSON.stringify({ code: code ?? 'Error', message: message ?? `stand-in answered ${status}`, target: null, details: null }));
}

function withoutToken(url: string): string {
  const parsed = new URL(url, 'http://stand-in');
  parsed.searchParams.delete('access_token');
  return `${parsed.pathname}${parsed.search}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
