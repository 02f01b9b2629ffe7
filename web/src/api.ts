import type { PageConfig } from './wire.ts';

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

/**
 * The calls the page makes itself; everything about jobs goes through `@statuscast/client`
 * (`followJob`, `followJobs`).
 */
export interface Api {
  config(): Promise<PageConfig>;
  /** Dev mode only: mints a demo user token (`POST /dev/tokens`). */
  devToken(sub: string, roles: readonly string[]): Promise<string>;
}

export function createApi(): Api {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store', credentials: 'same-origin' });
    } catch (error) {
      throw new ApiError(0, `The service cannot be reached (${errorText(error)}).`);
    }
    if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
    return (await response.json()) as T;
  }

  return {
    config: () => call<PageConfig>('GET', '/config.json'),
    devToken: async (sub, roles) => (await call<{ token: string }>('POST', '/dev/tokens', { sub, roles })).token,
  };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
