import type { Config } from '../config.ts';

/** The live-connection limits (docs/limits-live.md), resolved from the configuration. */
export interface LiveSettings {
  maxSubscriptionsPerSocket: number;
  /** A socket holding more unsent bytes than this is dropped as too slow. */
  maxBufferedBytes: number;
  /** Live events one subscription may have waiting before it is dropped as too slow. */
  maxQueuedEvents: number;
  /** null when RATE_LIMITS=off: benchmarks open thousands of connections from one address. */
  maxSocketsPerUser: number | null;
  maxSocketsPerIp: number | null;
  /** Calls per WebSocket; null when RATE_LIMITS=off. */
  calls: { ratePerSecond: number; burst: number } | null;
}

export function liveSettings(config: Config): LiveSettings {
  const limited = config.RATE_LIMITS === 'on';
  return {
    maxSubscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
    maxQueuedEvents: config.LIVE_MAX_QUEUED_EVENTS,
    maxSocketsPerUser: limited ? config.WS_MAX_SOCKETS_PER_USER : null,
    maxSocketsPerIp: limited ? config.WS_MAX_SOCKETS_PER_IP : null,
    calls: limited ? { ratePerSecond: config.WS_CALL_RATE, burst: config.WS_CALL_BURST } : null,
  };
}
