import { isIP, isIPv4 } from 'node:net';

/**
 * Which proxies in front of the server to believe about the client (X-Forwarded-For/-Proto/-Host):
 * - `false`: none; the client is the TCP peer.
 * - `{ hops }`: the nearest `hops` addresses (the TCP peer first) are proxies. The client is the
 *   address just beyond them, so entries a client prepends to X-Forwarded-For are ignored. Only
 *   safe when the server cannot be reached except through those proxies.
 * - `{ addresses }`: proxies are recognised by address (IPs, CIDRs, or proxy-addr's names
 *   `loopback`, `linklocal`, `uniquelocal`), which stays safe when clients can also connect directly.
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_HOPS = 10;

function addressProblem(entry: string): string | null {
  if (NAMED_RANGES.has(entry) || isIP(entry) !== 0) return null;
  const slash = entry.indexOf('/');
  if (slash > 0) {
    const ip = entry.slice(0, slash);
    const mask = entry.slice(slash + 1);
    const family = isIP(ip);
    const maxPrefix = family === 4 ? 32 : 128;
    if (family !== 0 && /^\d{1,3}$/.test(mask) && Number(mask) <= maxPrefix) return null;
    if (family === 4 && isIPv4(mask)) return null;
  }
  return `"${entry}" is not an IP address, a CIDR like 10.0.0.0/8, or one of loopback, linklocal, uniquelocal`;
}

/** Reads TRUST_PROXY; a string is the problem to report. */
export function parseTrustProxy(raw: string): TrustProxy | string {
  const value = raw.trim().toLowerCase();
  if (value === 'off' || value === '0') return false;
  // `on` used to trust every hop, which let any client choose its IP with X-Forwarded-For.
  if (value === 'on') return { hops: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= MAX_HOPS ? { hops } : `a hop count must be at most ${MAX_HOPS}, got ${value}`;
  }
  const addresses = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const problems = addresses.map(addressProblem).filter((problem) => problem !== null);
  if (addresses.length === 0 || problems.length > 0) {
    return `expected off, on, a hop count like 1, or a comma-separated list of proxy IPs/CIDRs; ${problems.join('; ') || 'got nothing'}`;
  }
  return { addresses };
}

/**
 * Fastify's `trustProxy` for a setting. Fastify 5.12 turned a bare number into "trust nothing",
 * so a hop count is given as the equivalent proxy-addr trust function.
 */
export function fastifyTrustProxy(trust: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if ('hops' in trust) {
    const { hops } = trust;
    return (_address, hop) => hop < hops;
  }
  return trust.addresses;
}
