import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** `prev_hash` of revision 0: a fixed value, so every stream's chain starts from the same place. */
export const GENESIS_HASH = '0'.repeat(64);

/** Metadata keys the chain writes; a caller's metadata may not use them. */
export const HASH_KEY = 'hash';
export const PREV_HASH_KEY = 'prev_hash';

/** What one link of the chain covers (docs/audit.md, "The encoding"). */
export interface ChainedContent {
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  /** The event's metadata as stored; its own `hash` is left out of the digest. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
}

/**
 * SHA-256 (lowercase hex) over the RFC 8785 canonical JSON of
 * `{stream, revision, type, data, metadata, prev_hash}`, where `metadata` is the event's
 * metadata without `hash`. It keeps `prev_hash` when the event carries it, so the link to the
 * previous event is covered twice: as the field and inside the metadata.
 *
 * Throws on values RFC 8785 cannot encode (NaN, Infinity, lone surrogates).
 */
export function chainHash(content: ChainedContent): string {
  const canonical = canonicalize({
    stream: content.stream,
    revision: content.revision,
    type: content.type,
    data: content.data,
    metadata: withoutHash(content.metadata),
    prev_hash: content.prevHash,
  });
  return createHash('sha256').update(canonical!, 'utf8').digest('hex');
}

/** The metadata as the digest sees it: everything but the event's own `hash`. */
export function withoutHash(metadata: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (!(HASH_KEY in metadata)) return metadata;
  const { [HASH_KEY]: _own, ...rest } = metadata;
  return rest;
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** A well-formed chain hash: 64 lowercase hex digits. */
export function isChainHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_DIGEST.test(value);
}
