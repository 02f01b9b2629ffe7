import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { Logger } from 'pino';
import type { Settlement } from './settlement.ts';
import type { ServiceBusMetrics } from './serviceBusMetrics.ts';

/** One message between delivery and settlement. */
export interface InFlightMessage {
  readonly message: ServiceBusReceivedMessage;
  readonly messageKey: string | undefined;
  /** Set before the first settlement call, so that nothing settles a message twice. */
  settled: boolean;
}

/**
 * Tells the broker what became of one message, at most once per delivery. A settlement the
 * broker does not acknowledge (the lock was lost, the link went away) is logged and counted,
 * not retried: the broker redelivers the message when its lock expires, and the ingest path is
 * idempotent by message id, so the redelivery settles it.
 */
export async function settleMessage(
  receiver: ServiceBusReceiver,
  entry: InFlightMessage,
  settlement: Settlement,
  deps: { logger: Logger; metrics: ServiceBusMetrics },
): Promise<void> {
  const { logger, metrics } = deps;
  if (entry.settled) return;
  entry.settled = true;
  const label = settlement.kind === 'deadLetter' ? 'dead_letter' : settlement.kind;
  const fields = { message_id: entry.messageKey, delivery_count: entry.message.deliveryCount, reason: settlement.reason };
  try {
    if (settlement.kind === 'complete') await receiver.completeMessage(entry.message);
    else if (settlement.kind === 'abandon') await receiver.abandonMessage(entry.message);
    else {
      await receiver.deadLetterMessage(entry.message, {
        deadLetterReason: settlement.reason,
        deadLetterErrorDescription: settlement.description,
      });
    }
  } catch (error) {
    metrics.settlementFailures.inc({ settlement: label });
    const code = (error as { code?: unknown }).code;
    logger.warn(
      { ...fields, settlement: label, err: { name: (error as Error).name, code, message: (error as Error).message } },
      'Service Bus settlement failed; the message comes back when its lock expires',
    );
    return;
  }
  metrics.settlements.inc({ settlement: label, reason: settlement.reason });
  if (settlement.kind === 'deadLetter') logger.warn({ ...fields, description: settlement.description }, 'Service Bus message dead-lettered');
  else if (settlement.kind === 'abandon') logger.warn(fields, 'Service Bus message abandoned; it will be redelivered');
  else logger.debug(fields, 'Service Bus message completed');
}
