import type { FeedNegotiation, HistoryPage, JobNegotiation, JobPage, PageConfig } from './wire.ts';

/** A failed call: `status` 0 means the network failed before any answer. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  config(): Promise<PageConfig>;
  /** Dev mode only: mints a demo user token (`POST /dev/tokens`). */
  devToken(sub: string, roles: readonly string[]): Promise<string>;
  listJobs(limit?: number): Promise<JobPage>;
  negotiateJob(jobId: string): Promise<JobNegotiation>;
  negotiateFeed(): Promise<FeedNegotiation>;
  /** A page of the job's raw stream after `after` (serverless catch-up). */
  history(jobId: string, after: number): Promise<HistoryPage>;
}

/**
 * The service's HTTP API as the page uses it. The user's token only ever travels in the
 * `Authorization` header; the stream tokens negotiate returns are the only ones that end
 * up in URLs (hub and SSE), because browsers cannot set headers there.
 */
export function createApi(userToken: () => string | null): Api {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = auth ? userToken() : null;
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (error) {
      throw new ApiError(0, `The service cannot be reached (${error instanceof Error ? error.message : String(error)}).`);
    }
    if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
    return (await response.json()) as T;
  }

  return {
    config: () => call<PageConfig>('GET', '/config.json', undefined, false),
    devToken: async (sub, roles) => (await call<{ token: string }>('POST', '/dev/tokens', { sub, roles }, false)).token,
    listJobs: (limit = 100) => call<JobPage>('GET', `/jobs?limit=${limit}`),
    negotiateJob: (jobId) => call<JobNegotiation>('POST', `/jobs/${encodeURIComponent(jobId)}/signalr/negotiate`),
    negotiateFeed: () => call<FeedNegotiation>('POST', '/signalr/negotiate'),
    history: (jobId, after) => call<HistoryPage>('GET', `/jobs/${encodeURIComponent(jobId)}/history?after=${after}&limit=1000`),
  };
}

async function problemDetail(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: unknown; title?: unknown };
    if (typeof problem.detail === 'string') return problem.detail;
    if (typeof problem.title === 'string') return problem.title;
  } catch {
    // Not a problem document; fall through to the status line.
  }
  return `${response.status} ${response.statusText}`;
}
