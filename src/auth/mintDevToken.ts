import { SignJWT } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, type DevKeys } from './devKeys.ts';

export interface DevTokenRequest {
  readonly sub: string;
  readonly roles?: readonly string[];
  /** Defaults to 12 hours. */
  readonly ttlSeconds?: number;
  /** Claim that carries the roles (the service's `AUTH_ROLES_CLAIM`). Defaults to `roles`. */
  readonly rolesClaim?: string;
}

/** Signs a dev-mode user token, as `npm run token` and the dev sign-in picker do. */
export function mintDevToken(keys: DevKeys, request: DevTokenRequest): Promise<string> {
  return new SignJWT({ [request.rolesClaim ?? 'roles']: [...(request.roles ?? [])] })
    .setProtectedHeader({ alg: keys.algorithm, kid: keys.kid, typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (request.ttlSeconds ?? 12 * 3600))
    .sign(keys.privateKey);
}
