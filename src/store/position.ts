/**
 * A store-wide position, shaped after EventStoreDB's `{commit, prepare}` pair so that
 * adapter can map its positions losslessly. Engines with a single sequence (SQLite) use
 * the same number for both. Always bigint: EventStoreDB positions are 64-bit byte offsets
 * and must never pass through a JavaScript number.
 */
export interface GlobalPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

const WIRE_FORMAT = /^(0|[1-9][0-9]{0,19})(?:-(0|[1-9][0-9]{0,19}))?$/;
const MAX_U64 = (1n << 64n) - 1n;

export function position(commit: bigint, prepare: bigint = commit): GlobalPosition {
  return { commit, prepare };
}

/**
 * Encodes a position as the opaque wire string: `"<commit>"` when both halves agree,
 * `"<commit>-<prepare>"` otherwise.
 */
export function encodePosition(p: GlobalPosition): string {
  return p.commit === p.prepare ? p.commit.toString() : `${p.commit}-${p.prepare}`;
}

/** Parses a wire position; returns `undefined` for anything that is not one. */
export function decodePosition(text: string): GlobalPosition | undefined {
  const match = WIRE_FORMAT.exec(text);
  if (!match) return undefined;
  const commit = BigInt(match[1]!);
  const prepare = match[2] === undefined ? commit : BigInt(match[2]);
  if (commit > MAX_U64 || prepare > MAX_U64) return undefined;
  return { commit, prepare };
}

/** Orders positions by commit, then prepare, as EventStoreDB does. */
export function comparePositions(a: GlobalPosition, b: GlobalPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function isAfter(a: GlobalPosition, b: GlobalPosition): boolean {
  return comparePositions(a, b) > 0;
}
