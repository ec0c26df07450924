/** The room page's URL for a room: one per room, so back and forward move between rooms. */
export function roomPath(room: string): string {
  return `/rooms/${encodeURIComponent(room)}`;
}
