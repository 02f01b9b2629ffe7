import { Agent, request } from 'node:http';

export interface HttpTarget {
  readonly host: string;
  readonly port: number;
}

export function targetOf(url: string): HttpTarget {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/**
 * Keep-alive pool for short requests (negotiate, SignalR sends, ingest). The pool is keyed
 * by source address as well, so requests from 127.0.0.x reuse sockets of that address.
 */
export const pooled = new Agent({ keepAlive: true, maxSockets: 4 });

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One HTTP/1.1 request; the whole answer is read into memory. */
export function httpRequest(
  target: HttpTarget,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    localAddress?: string;
    agent?: Agent | false;
    timeoutMs?: number;
  },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    const req = request(
      {
        host: target.host,
        port: target.port,
        method: options.method,
        path: options.path,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...options.headers },
        agent: options.agent === undefined ? pooled : options.agent,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(options.timeoutMs ?? 60_000, () => req.destroy(new Error(`${options.method} ${options.path.split('?')[0]} timed out`)));
    req.end(body);
  });
}

export async function httpJson<T = any>(target: HttpTarget, options: Parameters<typeof httpRequest>[1], expect = 200): Promise<T> {
  const answer = await httpRequest(target, options);
  if (answer.status !== expect) {
    throw new Error(`${options.method} ${options.path.split('?')[0]} answered ${answer.status}: ${answer.body.toString().slice(0, 300)}`);
  }
  return JSON.parse(answer.body.toString()) as T;
}
