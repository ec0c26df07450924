import { createHash, randomBytes } from 'node:crypto';

/** The session cookie over plain http (a LAN install). */
export const SESSION_COOKIE = 'atlas_session';
/**
 * The session cookie over https. Browsers accept a `__Host-` cookie only when it is Secure, has
 * Path=/ and no Domain, so a sibling subdomain or a plain-http page cannot plant or overwrite it.
 */
export const SECURE_SESSION_COOKIE = '__Host-atlas_session';
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** The cookie that carries the session for a request over https (true) or plain http (false). */
export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** 32 random bytes, base64url: what the client holds. Only its hash is stored. */
export function createSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * What an Authorization header says about the session:
 * - `none`: no header, or one for Basic, Digest, Negotiate or NTLM. Those belong to a proxy in
 *   front of us (nginx auth_basic, SSO), and browsers replay them on every request, so they must
 *   not stop the session cookie from working.
 * - `bearer`: a well-formed `Bearer <token>` (RFC 6750's b64token syntax).
 * - `invalid`: anything else, such as `Bearer`, `Bearer \u00a0`, `garbage` or a blank header. It is the
 *   request's only credential: there is no falling back to the cookie, and no exemption from the
 *   CSRF check.
 */
export type Authorization = { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'invalid' };

const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/** Schemes a proxy or the browser's own login prompt may add; never ours. */
const PROXY_SCHEME = /^(basic|digest|negotiate|ntlm) /i;

export function parseAuthorization(header: string | undefined): Authorization {
  if (header === undefined) return { kind: 'none' };
  const bearer = BEARER.exec(header);
  if (bearer?.[1]) return { kind: 'bearer', token: bearer[1] };
  if (PROXY_SCHEME.test(header)) return { kind: 'none' };
  return { kind: 'invalid' };
}
