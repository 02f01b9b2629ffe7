import { CompactSign, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import canonicalize from 'canonicalize';
import type { AuditSigner, Jwks } from './auditKeys.ts';

/** JWS `typ` of a checkpoint, so that no other JWS the keys might sign passes for one. */
export const CHECKPOINT_TYPE = 'statuscast-audit-checkpoint';

/** Revisions whose hashes were recorded by a backfill rather than at append, and when. */
export interface BackfilledRange {
  readonly first_revision: number;
  readonly last_revision: number;
  readonly recorded_at: string;
}

/** What a checkpoint states: at `signed_at` the job's stream ended at `revision` with `hash`. */
export interface Checkpoint {
  readonly job_id: string;
  readonly revision: number;
  readonly hash: string;
  readonly signed_at: string;
  /** Present when some revisions were chained by a backfill (docs/audit.md). */
  readonly backfilled?: readonly BackfilledRange[];
}

/** A checkpoint with its compact JWS, whose payload is the canonical JSON of the checkpoint. */
export type SignedCheckpoint = Checkpoint & { readonly jws: string };

export async function signCheckpoint(signer: AuditSigner, checkpoint: Checkpoint): Promise<SignedCheckpoint> {
  const payload = new TextEncoder().encode(canonicalize(checkpoint)!);
  const jws = await new CompactSign(payload)
    .setProtectedHeader({ alg: signer.algorithm, kid: signer.kid, typ: CHECKPOINT_TYPE })
    .sign(signer.privateKey);
  return { ...checkpoint, jws };
}

export type CheckpointVerdict =
  | { readonly ok: true; readonly checkpoint: Checkpoint; readonly kid: string }
  | { readonly ok: false; readonly detail: string };

/**
 * Verifies a signed checkpoint against a key set: the signature, its type, and that the
 * fields beside the JWS say exactly what was signed.
 */
export async function verifyCheckpoint(signed: SignedCheckpoint, jwks: Jwks): Promise<CheckpointVerdict> {
  const { jws, ...stated } = signed;
  if (typeof jws !== 'string') return { ok: false, detail: 'the checkpoint carries no JWS' };
  let kid = 'unknown';
  try {
    kid = decodeProtectedHeader(jws).kid ?? kid;
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet({ keys: [...jwks.keys] }), {
      algorithms: ['EdDSA', 'ES256'],
    });
    if (protectedHeader.typ !== CHECKPOINT_TYPE) return { ok: false, detail: `the JWS is not a checkpoint (typ ${protectedHeader.typ ?? 'none'})` };
    const signedText = new TextDecoder().decode(payload);
    if (signedText !== canonicalize(stated)) return { ok: false, detail: 'the checkpoint line differs from what was signed' };
    return { ok: true, checkpoint: JSON.parse(signedText) as Checkpoint, kid };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, detail: `the signature does not verify with the given keys (key ${kid}): ${reason}` };
  }
}
