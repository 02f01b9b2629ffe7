import { StatuscastError, errorText, kindOfStatus } from './errors.ts';
import type { HistoryPage, JobGrant, JobPage, JobSnapshot, StreamGrant } from './wire.ts';

/** Returns the user's token (a bearer JWT) for API calls; called before every request. */
export type GetToken = () => string | null | undefined | Promise<string | null | undefined>;

export interface ApiOptions {
  /** Where statuscast runs, e.g. `https://status.example.com`. Defaults to the page's origin in a browser. */
  readonly baseUrl?: string | undefined;
  readonly getToken: GetToken;
  /** The `fetch` to use. Defaults to the global one. */
  readonly fetch?: typeof fetch | undefined;
}

/** A negotiate answer plus how long its stream token lasts, measured on the service's clock. */
export interface Granted<G extends StreamGrant> {
  readonly grant: G;
  /** When this client received it (`Date.now()`). */
  readonly receivedAt: number;
  /** The stream token's lifetime from `receivedAt`, in ms (`expires_at` minus the answer's `Date`). */
  readonly lifetimeMs: number;
}

/**
 * The statuscast HTTP API as the client uses it. Only the user's token (from `getToken`)
 * travels here, always in the `Authorization` header; stream tokens are used only by the
 * hub and the SSE URL.
 */
export interface Api {
  readonly baseUrl: string;
  negotiateJob(jobId: string): Promise<Granted<JobGrant>>;
  negotiateFeed(): Promise<Granted<StreamGrant>>;
  /** `GET /jobs/{id}`: the same snapshot as negotiate, without minting a stream token. */
  job(jobId: string): Promise<JobSnapshot>;
  /** `GET /jobs/{id}/history?after=`: one page of the job's raw stream. */
  history(jobId: string, after: number, signal?: AbortSignal): Promise<HistoryPage>;
  listJobs(limit: number): Promise<JobPage>;
  /** An absolute URL for a path or URL the service returned (e.g. `sse_url`). */
  resolve(pathOrUrl: string): string;
}

export function createApi(options: ApiOptions): Api {
  const baseUrl = defaultBaseUrl(options.baseUrl);
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));

  function resolve(pathOrUrl: string): string {
    return new URL(pathOrUrl, `${baseUrl}/`).toString();
  }

  async function userToken(): Promise<string | null> {
    try {
      return (await options.getToken()) || null;
    } catch (error) {
      throw new StatuscastError('unavailable', `getToken failed: ${errorText(error)}`);
    }
  }

  async function send(method: string, path: string, token: string | null, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    try {
      return await doFetch(resolve(path), { method, headers, ...(signal && { signal }) });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new StatuscastError('unavailable', `statuscast cannot be reached (${errorText(error)})`);
    }
  }

  async function call<T>(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<{ body: T; date: number | null }> {
    const token = await userToken();
    let response = await send(method, path, token, signal);
    if (response.status === 401) {
      // The app may have refreshed its token meanwhile: one more try with the new one.
      const fresh = await userToken();
      if (fresh !== token) response = await send(method, path, fresh, signal);
    }
    if (!response.ok) {
      throw new StatuscastError(kindOfStatus(response.status), await problemText(response), response.status);
    }
    const dateHeader = response.headers.get('date');
    const date = dateHeader ? Date.parse(dateHeader) : NaN;
    return { body: (await response.json()) as T, date: Number.isFinite(date) ? date : null };
  }

  async function negotiate<G extends StreamGrant>(path: string): Promise<Granted<G>> {
    const { body, date } = await call<G>('POST', path);
    const receivedAt = Date.now();
    const expiresAt = Date.parse(body.expires_at);
    // Measured against the answer's own Date header, so a skewed client clock does not matter
    // (the header has whole seconds; the renewal margin is far wider than that).
    const lifetimeMs = Number.isFinite(expiresAt) ? Math.max(0, expiresAt - (date ?? receivedAt)) : 0;
    return { grant: body, receivedAt, lifetimeMs };
  }

  const job = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;
  return {
    baseUrl,
    resolve,
    negotiateJob: (jobId) => negotiate<JobGrant>(`${job(jobId)}/signalr/negotiate`),
    negotiateFeed: () => negotiate<StreamGrant>('/signalr/negotiate'),
    job: async (jobId) => (await call<JobSnapshot>('GET', job(jobId))).body,
    history: async (jobId, after, signal) =>
      (await call<HistoryPage>('GET', `${job(jobId)}/history?after=${after}&limit=1000`, signal)).body,
    listJobs: async (limit) => (await call<JobPage>('GET', `/jobs?limit=${limit}`)).body,
  };
}

function defaultBaseUrl(baseUrl: string | undefined): string {
  if (baseUrl) return baseUrl.replace(/\/+$/, '');
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (origin && origin !== 'null') return origin;
  throw new TypeError('baseUrl is required outside a browser page (e.g. "http://127.0.0.1:3000").');
}

async function problemText(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: unknown; title?: unknown };
    if (typeof problem.detail === 'string') return problem.detail;
    if (typeof problem.title === 'string') return problem.title;
  } catch {
    // Not a problem document: fall back to the status line.
  }
  return `${response.status} ${response.statusText}`.trim();
}
