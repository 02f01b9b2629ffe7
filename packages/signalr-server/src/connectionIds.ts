import { randomBytes } from 'node:crypto';

/** 16 random bytes, base64url: the entropy ASP.NET uses for connection ids and tokens. */
export function newConnectionIdentifier(): string {
  return randomBytes(16).toString('base64url');
}
