import { SignJWT } from 'jose';

/** Lifetime of REST tokens; the SDK's default. Each request signs its own token. */
export const REST_TOKEN_LIFETIME_SECONDS = 3600;

/**
 * Signs a token the service accepts (protocol doc §11.2): header `{"alg":"HS256","typ":"JWT"}`,
 * HMAC key = the UTF-8 bytes of the AccessKey exactly as written (not base64-decoded),
 * claims `aud` and `exp` (seconds) plus `claims` (e.g. `nameid` for a client token).
 */
export async function signServiceToken(
  accessKey: string,
  token: { readonly audience: string; readonly expiresAtSeconds: number; readonly claims?: Readonly<Record<string, string>> },
): Promise<string> {
  return new SignJWT({ ...token.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(token.audience)
    .setExpirationTime(token.expiresAtSeconds)
    .sign(new TextEncoder().encode(accessKey));
}
