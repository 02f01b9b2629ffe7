import { randomUUID } from 'node:crypto';
import { type ServerWritableStream, status } from '@grpc/grpc-js';
import type { ReadReq, ReadResp as ReadRespMessage } from '@eventstore/db-client/generated/streams_pb.js';
import type { StandInFilter } from './eventFilter.ts';
import { checkpointResponse, ReadResp, toReadEventResponse, writeWithBackpressure } from './protocol.ts';
import type { LogPosition, StandInLog } from './standInLog.ts';

/** What a client asked for when it opened a `$all` subscription; kept for tests to inspect. */
export interface SubscriptionRequest {
  readonly from: 'start' | 'end' | LogPosition;
  readonly filter: string | null;
}

/** How a test ends a subscription from the server side. */
export interface DropStatus {
  /** gRPC status; `status.OK` ends the call cleanly, as a server may. Defaults to UNAVAILABLE. */
  readonly code?: status;
  readonly details?: string;
}

export class SubscriptionRegistry {
  readonly requests: SubscriptionRequest[] = [];
  /** How often a subscription had to wait because its client was not reading. */
  backpressureWaits = 0;
  readonly #active = new Set<(dropStatus: DropStatus) => void>();

  add(drop: (dropStatus: DropStatus) => void): () => void {
    this.#active.add(drop);
    return () => this.#active.delete(drop);
  }

  get activeCount(): number {
    return this.#active.size;
  }

  dropAll(dropStatus: DropStatus): number {
    const drops = [...this.#active];
    this.#active.clear();
    for (const drop of drops) drop(dropStatus);
    return drops.length;
  }
}

/**
 * A catch-up subscription to `$all`, following EventStoreDB 23.10+ (and KurrentDB):
 * confirmation, then every event strictly after the start, then — for a filtered
 * subscription — a checkpoint at the last examined position, then `CaughtUp`, then live
 * events. A filtered subscription also sends a checkpoint every `checkpointInterval`
 * examined events, matching or not, of any stream: the server's own `$`-typed records
 * count and a checkpoint can land on one, past the last event the client was sent
 * (KurrentDB `Enumerator.AllSubscriptionFiltered`: `_checkpointInterval = multiplier ×
 * maxSearchWindow` (32 by default), catch-up counts `ConsideredEventsCount` and issues a
 * checkpoint when going live; live checkpoints come from `CheckpointReached` at the
 * considered record). Nothing is sent for a subscription from `end` until `CaughtUp`. The
 * server never sends `FellBehind` (KurrentDB does not either).
 */
export async function runAllSubscription(
  call: ServerWritableStream<ReadReq, ReadRespMessage>,
  log: StandInLog,
  registry: SubscriptionRegistry,
  request: { from: 'start' | 'end' | LogPosition; filter: StandInFilter | null; structuredIds: boolean },
): Promise<void> {
  const { from, filter, structuredIds } = request;
  registry.requests.push({ from, filter: filter?.description ?? null });

  let ended = false;
  let wake: () => void = () => {};
  const stopAppendWatch = log.onAppend(() => wake());
  const unregister = registry.add((dropStatus) => {
    ended = true;
    wake();
    const code = dropStatus.code ?? status.UNAVAILABLE;
    if (code === status.OK) call.end();
    else call.emit('error', { code, details: dropStatus.details ?? 'stand-in dropped the subscription' });
  });
  const onGone = () => {
    ended = true;
    wake();
  };
  call.on('cancelled', onGone);
  call.on('close', onGone);

  try {
    const confirmation = new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID());
    await writeWithBackpressure(call, new ReadResp().setConfirmation(confirmation));

    const events = log.events;
    let next = from === 'start' ? 0 : from === 'end' ? events.length : log.indexAfter(from);
    let lastExamined: LogPosition | null = from === 'start' ? null : from === 'end' ? null : from;
    let lastCheckpoint: LogPosition | null = null;
    let examinedSinceCheckpoint = 0;
    let caughtUp = false;

    while (!ended) {
      while (!ended && next < events.length) {
        const event = events[next++]!;
        lastExamined = event.position;
        if (!filter || filter.matches(event)) {
          if (await writeWithBackpressure(call, toReadEventResponse(event, structuredIds))) registry.backpressureWaits += 1;
        }
        if (filter && ++examinedSinceCheckpoint >= filter.checkpointInterval) {
          examinedSinceCheckpoint = 0;
          lastCheckpoint = lastExamined;
          if (!ended) await writeWithBackpressure(call, checkpointResponse(lastExamined));
        }
      }
      if (ended) break;
      if (!caughtUp) {
        caughtUp = true;
        // Going live after a catch-up phase issues a checkpoint, so a consumer always has a
        // resume point even when everything it examined was filtered out.
        if (filter && from !== 'end' && lastExamined && lastExamined !== lastCheckpoint) {
          await writeWithBackpressure(call, checkpointResponse(lastExamined));
        }
        if (!ended) await writeWithBackpressure(call, new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));
      }
      if (next >= events.length && !ended) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = () => {};
      }
    }
  } finally {
    unregister();
    stopAppendWatch();
    call.off('cancelled', onGone);
    call.off('close', onGone);
  }
}
