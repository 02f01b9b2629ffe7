import { afterEach, describe, expect, it } from 'vitest';
import type { Granted } from '../src/api.ts';
import { StatuscastError } from '../src/errors.ts';
import { LiveConnection } from '../src/liveConnection.ts';
import type { Link } from '../src/transports/link.ts';
import type { StreamGrant } from '../src/wire.ts';

const grant: StreamGrant = { url: 'http://hub', accessToken: 't', hub: 'status', groups: [], sse_url: '/events', expires_at: '' };
const granted = (): Granted<StreamGrant> => ({ grant, receivedAt: Date.now(), lifetimeMs: 600_000 });

/** A link that the service ends `afterMs` after it opened (as a hub that refuses the stream at once would). */
function shortLived(afterMs: number): Link {
  return {
    transport: 'websockets',
    ended: new Promise((resolve) => setTimeout(() => resolve(new StatuscastError('unavailable', 'closed by the server')), afterMs)),
    stop() {},
  };
}

describe('LiveConnection (its state machine, with links the test controls)', () => {
  let connection: LiveConnection<StreamGrant> | undefined;
  afterEach(() => connection?.close());

  it('backs off when every connection is ended right after it opened, instead of reconnecting in a tight loop', async () => {
    let opens = 0;
    let negotiations = 0;
    connection = new LiveConnection<StreamGrant>({
      transport: 'websockets',
      negotiate: async () => {
        negotiations++;
        return granted();
      },
      granted() {},
      openSignalR: async () => {
        opens++;
        return shortLived(10);
      },
      openSse: () => Promise.reject(new Error('not used')),
      live() {},
      state() {},
    });
    connection.start();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Open, ended; reconnect at once (attempt 1) and ended again; attempt 2 waits ~2 s.
    expect(opens).toBe(2);
    // A connection that does not last is a reason to ask for a fresh grant.
    expect(negotiations).toBe(2);
    expect(connection.state).toMatchObject({ status: 'reconnecting', attempt: 2 });
  });

  it('negotiates afresh when reconnect() is pressed after negotiate said the job is gone', async () => {
    let negotiations = 0;
    let opens = 0;
    connection = new LiveConnection<StreamGrant>({
      transport: 'websockets',
      negotiate: async () => {
        negotiations++;
        if (negotiations === 2) throw new StatuscastError('not-found', 'gone', 404);
        return granted();
      },
      granted() {},
      // The first connection is ended at once; the next attempt's negotiate answers 404.
      openSignalR: async () => shortLived(++opens === 1 ? 20 : 60_000),
      openSse: () => Promise.reject(new Error('not used')),
      live() {},
      state() {},
    });
    connection.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(connection.state).toMatchObject({ status: 'offline', error: { kind: 'not-found' } });
    // Retry: the old grant must not be used to reconnect; only a new negotiate may say yes.
    connection.reconnect();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(negotiations).toBe(3);
    expect(connection.state.status).toBe('live');
  });
});
