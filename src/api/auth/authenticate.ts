import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { type Principal, type Role, hasRole } from '../../auth/principal.ts';
import { ForbiddenError, UnauthorizedError } from '../../errors.ts';

export interface AuthenticateOptions {
  /**
   * Also accept the stream tokens negotiate mints, in the header or in `?access_token=` (the
   * SSE endpoints: `EventSource` cannot send headers). What such a token may open is then the
   * stream-access policy's call. Everywhere else a stream token is a 401, so that a token
   * from a URL never works as a login. Defaults to false.
   */
  readonly acceptStreamTokens?: boolean;
  /** A role the caller must hold (403 otherwise). */
  readonly role?: Role;
}

/** Verifies the caller's token on every request and leaves the principal in `res.locals`. */
export function authenticate(authenticator: Authenticator, options: AuthenticateOptions = {}): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const principal = await principalOf(req, authenticator, options.acceptStreamTokens ?? false);
    if (options.role && !hasRole(principal, options.role)) {
      throw new ForbiddenError(`This endpoint needs the "${options.role}" role.`);
    }
    res.locals['principal'] = principal;
    next();
  };
}

/** What `principalOf` reads: an express request, or a bare one with its parsed query (the stream requests served before express). */
export interface TokenBearer {
  readonly headers: IncomingHttpHeaders;
  readonly query: Record<string, unknown>;
}

export async function principalOf(req: TokenBearer, authenticator: Authenticator, acceptStreamTokens: boolean): Promise<Principal> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError('The Authorization header must be "Bearer <token>".');
    const principal = await authenticator.verifyBearer(match[1]!);
    if (principal.tokenKind === 'stream' && !acceptStreamTokens) {
      throw new UnauthorizedError('A stream token opens only the stream it was minted for; this endpoint needs a user token.');
    }
    return principal;
  }
  const query = req.query['access_token'];
  if (acceptStreamTokens && typeof query === 'string' && query !== '') return authenticator.verifyQueryToken(query);
  throw new UnauthorizedError('An access token is required in the Authorization header.');
}

export function principal(res: Response): Principal {
  const value = res.locals['principal'] as Principal | undefined;
  if (!value) throw new UnauthorizedError('An access token is required.');
  return value;
}
