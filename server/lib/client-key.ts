import { isIPv6 } from 'node:net';

/**
 * The key per-IP limits count under. An IPv4 address (also IPv4-mapped, `::ffff:192.0.2.1`) is its
 * own key. An IPv6 address counts by its /64 prefix, the smallest block a site is usually given,
 * so one client cannot get a fresh budget from each of its 2^64 addresses.
 */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = ip.includes('::') ? [...headGroups, ...Array(missing).fill('0'), ...tailGroups] : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
