/**
 * Byte-level scanning of what the servers send, so that a load client does not pay for
 * decoding and parsing every message it receives: the revision (or sequence) and the
 * publisher's timestamp are read straight from the bytes. Every client also parses its
 * first live message in full and checks that both readings agree (see `crossCheck`).
 */
export const RS = 0x1e;

const needles = new Map<string, Buffer>();
export function needle(text: string): Buffer {
  let buffer = needles.get(text);
  if (!buffer) needles.set(text, (buffer = Buffer.from(text)));
  return buffer;
}

export function startsWith(buf: Buffer, start: number, prefix: Buffer): boolean {
  return buf.length - start >= prefix.length && buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;
}

/** The number right after `key` within [start, end), or NaN. */
export function numberAfter(buf: Buffer, key: Buffer, start: number, end: number): number {
  const at = buf.indexOf(key, start);
  if (at < 0 || at >= end) return Number.NaN;
  let i = at + key.length;
  while (i < end && buf[i] === 0x20) i++;
  const from = i;
  while (i < end) {
    const c = buf[i]!;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45) i++;
    else break;
  }
  return Number(buf.toString('latin1', from, i));
}

/** Occurrences of `key` within [start, end). */
export function countOf(buf: Buffer, key: Buffer, start: number, end: number): number {
  let count = 0;
  let at = buf.indexOf(key, start);
  while (at >= 0 && at < end) {
    count++;
    at = buf.indexOf(key, at + key.length);
  }
  return count;
}

export const KEYS = {
  revision: needle('"revision":'),
  sentAt: needle('"bench_sent_at":'),
  fromRevision: needle('"from_revision":'),
  toRevision: needle('"to_revision":'),
  timelineEvent: needle('{"type":1,"target":"timeline.event"'),
  statusLatest: needle('{"type":1,"target":"status.latest"'),
  ping: needle('{"type":6}'),
};

/** What one hub (or hub-style) message was, for the clients' dispatch. */
export interface HubMessageSink {
  live(seq: number, sentAt: number, buf: Buffer, start: number, end: number): void;
  /** A `timeline.bulk`: its range and the number of entries it holds. */
  bulk(from: number, to: number, count: number, buf: Buffer, start: number, end: number): void;
  /** Anything else (handshake, Completion, Close, hello), parsed. */
  other(message: Record<string, any>): void;
}

const BULK = needle('{"type":1,"target":"timeline.bulk"');

/** Walks record-separated hub messages in [start, end). */
export function forEachHubMessage(buf: Buffer, start: number, end: number, sink: HubMessageSink): void {
  let s = start;
  while (s < end) {
    let e = buf.indexOf(RS, s);
    if (e < 0 || e > end) e = end;
    if (e > s) dispatchHubMessage(buf, s, e, sink);
    s = e + 1;
  }
}

function dispatchHubMessage(buf: Buffer, s: number, e: number, sink: HubMessageSink): void {
  if (startsWith(buf, s, KEYS.timelineEvent)) {
    sink.live(numberAfter(buf, KEYS.revision, s, e), numberAfter(buf, KEYS.sentAt, s, e), buf, s, e);
  } else if (startsWith(buf, s, KEYS.statusLatest) || startsWith(buf, s, KEYS.ping)) {
    // status.latest travels with its timeline.event; pings keep the connection alive.
  } else if (startsWith(buf, s, BULK)) {
    const from = numberAfter(buf, KEYS.fromRevision, s, e);
    const to = numberAfter(buf, KEYS.toRevision, s, e);
    sink.bulk(from, to, countOf(buf, KEYS.revision, s, e), buf, s, e);
  } else {
    sink.other(JSON.parse(buf.toString('utf8', s, e)) as Record<string, any>);
  }
}
