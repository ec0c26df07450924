/**
 * Who is connected to which room. Until live connections exist nobody is online; the live-rooms
 * work fills this in from WebSocket subscriptions.
 */
export interface Presence {
  onlineUsernames(room: string): ReadonlySet<string>;
}

export function createPresence(): Presence {
  const nobody: ReadonlySet<string> = new Set();
  return { onlineUsernames: () => nobody };
}
