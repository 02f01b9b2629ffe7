import express, { Router } from 'express';
import type { DevKeys } from '../../auth/devKeys.ts';
import { mintDevToken } from '../../auth/mintDevToken.ts';
import { ValidationError } from '../../errors.ts';

const ROLES = new Set(['admin', 'auditor', 'publisher']);

/**
 * Dev mode only (never mounted with `AUTH_JWKS_URL`): the service's own JWKS, and demo
 * tokens for the sign-in picker of the web page.
 */
export function devAuthRoutes(deps: { keys: DevKeys; rolesClaim: string }): Router {
  const router = Router();

  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json({ keys: [deps.keys.publicJwk] });
  });

  router.post('/dev/tokens', express.json({ limit: '4kb' }), async (req, res) => {
    const body = (req.body ?? {}) as { sub?: unknown; roles?: unknown };
    if (typeof body.sub !== 'string' || !/^[A-Za-z0-9._:|@-]{1,128}$/.test(body.sub)) {
      throw new ValidationError('Choose a user id.', [{ path: 'sub', message: 'must be 1..128 characters of [A-Za-z0-9._:|@-]' }]);
    }
    const roles = body.roles ?? [];
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && ROLES.has(r))) {
      throw new ValidationError('Unknown role.', [{ path: 'roles', message: 'must be a list of admin, auditor, publisher' }]);
    }
    const token = await mintDevToken(deps.keys, { sub: body.sub, roles: roles as string[], rolesClaim: deps.rolesClaim });
    res.set('Cache-Control', 'no-store').json({ token, token_type: 'Bearer', sub: body.sub, roles });
  });

  return router;
}
