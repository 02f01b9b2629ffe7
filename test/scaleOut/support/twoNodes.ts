import { type EventStoreDbStandIn, startEventStoreDbStandIn } from '../../support/eventStoreDbStandIn/index.ts';
import { type Node, type Nodes, startNodes } from './nodes.ts';

export type { Node } from './nodes.ts';

export interface TwoNodes extends Omit<Nodes, 'all'> {
  readonly esdb: EventStoreDbStandIn;
  readonly a: Node;
  readonly b: Node;
}

/**
 * Two statuscast processes sharing one EventStoreDB — the stand-in, served from this test
 * process (see `startNodes` for what else they share).
 */
export async function startTwoNodes(): Promise<TwoNodes> {
  const esdb = await startEventStoreDbStandIn();
  let nodes: Nodes;
  try {
    nodes = await startNodes(2, { EVENTSTORE_CONNECTION_STRING: esdb.connectionString });
  } catch (error) {
    await esdb.stop();
    throw error;
  }
  const [a, b] = nodes.all as [Node, Node];
  return {
    ...nodes,
    esdb,
    a,
    b,
    async close() {
      await nodes.close();
      await esdb.stop();
    },
  };
}
