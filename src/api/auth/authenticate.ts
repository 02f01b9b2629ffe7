import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { type Principal, type Role, hasRole } from '../../auth/principal.ts';
import { ForbiddenError, UnauthorizedError } from '../../errors.ts';

export interface AuthenticateOptions {
  /**
   * Also accept a stream token in `?access_token=` (SSE endpoints, because `EventSource`
   * cannot send headers). Defaults to false.
   */
  readonly allowQueryToken?: boolean;
  /** A role the caller must hold (403 otherwise). */
  readonly role?: Role;
}

/** Verifies the caller's token on every request and leaves the principal in `res.locals`. */
export function authenticate(authenticator: Authenticator, options: AuthenticateOptions = {}): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const principal = await principalOf(req, authenticator, options.allowQueryToken ?? false);
    if (options.role && !hasRole(principal, options.role)) {
      throw new ForbiddenError(`This endpoint needs the "${options.role}" role.`);
    }
    res.locals['principal'] = principal;
    next();
  };
}

export async function principalOf(req: Request, authenticator: Authenticator, allowQueryToken: boolean): Promise<Principal> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError('The Authorization header must be "Bearer <token>".');
    return authenticator.verifyBearer(match[1]!);
  }
  const query = req.query['access_token'];
  if (allowQueryToken && typeof query === 'string' && query !== '') return authenticator.verifyQueryToken(query);
  throw new UnauthorizedError('An access token is required.');
}

export function principal(res: Response): Principal {
  const value = res.locals['principal'] as Principal | undefined;
  if (!value) throw new UnauthorizedError('An access token is required.');
  return value;
}
