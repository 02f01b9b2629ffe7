import { createHash, randomUUID } from 'node:crypto';

/**
 * Event ids derived from the idempotency key, so that a retried append (after a crash
 * between append and acknowledgement) carries the same ids and the store recognizes it.
 * Without a key there is nothing to derive from and the id is random.
 */
export function eventIdFor(jobId: string, messageId: string | null, eventType: string): string {
  if (messageId === null) return randomUUID();
  const hash = createHash('sha1').update(`statuscast\u0000${jobId}\u0000${messageId}\u0000${eventType}`).digest();
  // Lay the hash out as an RFC 9562 name-based (version 5) UUID.
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
