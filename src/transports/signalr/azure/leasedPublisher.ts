import type { Logger } from 'pino';
import type { Lease } from '../../../store/lease.ts';
import type { GlobalPosition } from '../../../store/position.ts';
import type { AzureSignalRPublisher } from './azureSignalRPublisher.ts';

export interface LeasedPublisherOptions {
  readonly lease: Lease;
  /** A fresh publisher each time this node takes the lease. */
  readonly createPublisher: () => AzureSignalRPublisher;
  /** Where to start when no node has published yet: the live feed's position when this node started. */
  readonly startPosition: () => GlobalPosition | null;
  /** How often the holder saves how far its sends got. Defaults to 500 ms. */
  readonly saveIntervalMs?: number;
  /** Told 1 while this node publishes, 0 while another does. */
  readonly publishing?: (active: boolean) => void;
  readonly logger: Logger;
}

/**
 * With several nodes, exactly one publishes to Azure SignalR Service at a time — the holder
 * of the lease — so each event reaches each group once, not once per node. The holder saves
 * how far its sends have ended; the next holder (when this node stops or dies) starts after
 * that, so nothing is skipped. Events whose sends were in flight when a holder died are
 * sent again by the next one; clients drop revisions they already have.
 */
export function createLeasedPublisher(options: LeasedPublisherOptions) {
  const { lease, logger } = options;
  const saveIntervalMs = options.saveIntervalMs ?? 500;
  let publisher: AzureSignalRPublisher | undefined;
  let saver: NodeJS.Timeout | undefined;
  let startPosition: GlobalPosition | null = null;

  function save(current: AzureSignalRPublisher): Promise<void> {
    const position = current.progress();
    return position ? lease.savePosition(position) : Promise.resolve();
  }

  return {
    async start(): Promise<void> {
      startPosition = options.startPosition();
      lease.run({
        async acquired(resumeAfter) {
          const next = options.createPublisher();
          publisher = next;
          await next.start(resumeAfter ?? startPosition);
          saver = setInterval(() => void save(next), saveIntervalMs);
          saver.unref();
          options.publishing?.(true);
          logger.info('this node publishes to Azure SignalR Service for the deployment');
        },
        async lost() {
          clearInterval(saver);
          const current = publisher;
          publisher = undefined;
          options.publishing?.(false);
          if (!current) return;
          // Still holding (a graceful stop): drain, then save for the next holder. Lost
          // (the connection failed): stop at once, another node may already publish.
          const graceful = lease.held;
          await current.stop(graceful ? undefined : 0);
          if (graceful) await save(current);
        },
      });
    },
    stop: () => lease.close(),
    idle: () => publisher?.idle() ?? Promise.resolve(),
  };
}
