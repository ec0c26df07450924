/**
 * The address of one message: its room page with `?at=<seq>`. The room page opens on the page of
 * history around that message (messages.list `around`), scrolls to it and highlights it.
 */
export function messageHref(room: string, seq: number): string {
  return `/rooms/${encodeURIComponent(room)}?at=${seq}`;
}

/** The `at` of a room page's address, when it is a valid seq. */
export function jumpSeqOf(search: URLSearchParams): number | null {
  const at = search.get('at');
  if (at === null || !/^\d{1,15}$/.test(at)) return null;
  return Number(at);
}
