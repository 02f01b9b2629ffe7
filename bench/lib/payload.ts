import type { PeerEvent } from '../peers/peerEvent.ts';

/** The user every benchmark job belongs to. */
export const BENCH_USER = 'bench-user';

let messageCounter = 0;

/**
 * A status message as a worker would send it, carrying the publisher's clock in `details`
 * (`bench_sent_at`, ms since the epoch with a fraction): clients subtract it on receipt.
 */
export function statusMessage(jobId: string, sentAt: number, withOwner: boolean): Record<string, unknown> {
  messageCounter++;
  return {
    message_id: `bm-${process.pid}-${messageCounter}`,
    job_id: jobId,
    ...(withOwner ? { user_id: BENCH_USER } : {}),
    stage: 'processing',
    state: 'running',
    message: `step ${messageCounter} of the benchmark`,
    progress: 0.5,
    cycle: 1,
    details: { bench_sent_at: sentAt, n: messageCounter },
    ts: new Date(Math.floor(sentAt)).toISOString(),
  };
}

/**
 * The same event for the peers: the exact `timeline.event` and `status.latest` argument
 * shapes statuscast sends (same fields, same order, same sizes), with `seq` as the revision.
 */
export function peerEvent(room: string, seq: number, sentAt: number): PeerEvent {
  messageCounter++;
  const ts = new Date(Math.floor(sentAt)).toISOString();
  const common = {
    stage: 'processing',
    state: 'running',
    artifact: null,
    message: `step ${messageCounter} of the benchmark`,
    cycle: 1,
    progress: 0.5,
    details: { bench_sent_at: sentAt, n: messageCounter },
    ts,
  };
  return {
    room,
    seq,
    timelineEvent: JSON.stringify({ job_id: room, event: { revision: seq, ...common } }),
    statusLatest: JSON.stringify({ job_id: room, ...common, revision: seq }),
  };
}
