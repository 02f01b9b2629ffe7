import { HubError, invocationFrame, type HubConnectionContext, type HubDefinition } from '../../src/index.ts';
import type { TestUser } from './testAuthenticator.ts';

/** Test double of an application hub: echo, errors, a server push, and a way to close. */
export interface TestSession {
  readonly connection: HubConnectionContext<TestUser>;
}

export function createTestHub(events: { connected: number; disconnected: number } = { connected: 0, disconnected: 0 }): HubDefinition<TestUser, TestSession> & { events: typeof events; sessions: Set<TestSession> } {
  const sessions = new Set<TestSession>();
  return {
    events,
    sessions,
    methods: {
      Echo: (_session, args) => args[0],
      WhoAmI: (session) => session.connection.identity.userId,
      Fail: () => {
        throw new HubError('failed on purpose');
      },
      Crash: () => {
        throw new Error('secret internal detail');
      },
      Nothing: () => undefined,
      /** Pushes `count` numbered `tick` invocations, then returns `count`. */
      Push: (session, args) => {
        const count = Number(args[0]);
        for (let i = 1; i <= count; i++) {
          session.connection.send({ text: invocationFrame('tick', String(i)), messageCount: 1, targets: ['tick'] });
        }
        return count;
      },
      Slow: async (_session, args) => {
        await new Promise((resolve) => setTimeout(resolve, Number(args[0])));
        return 'done';
      },
      CloseMe: (session, args) => {
        setImmediate(() => session.connection.close({ error: String(args[0]), allowReconnect: args[1] === true }));
      },
    },
    connected(connection) {
      events.connected++;
      const session = { connection };
      sessions.add(session);
      return session;
    },
    disconnected(session) {
      events.disconnected++;
      sessions.delete(session);
    },
  };
}
