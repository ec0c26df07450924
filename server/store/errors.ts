/**
 * The database cannot be reached right now (connection refused, terminated or timed out; SQLite
 * file unreadable or closed). The API answers 503 with this message and the next call tries again:
 * PostgreSQL's pool opens fresh connections, so the store recovers by itself once the server is back.
 * A post that fails this way may or may not have been committed: a client retrying with the same
 * clientId gets the stored message if it was.
 */
export class StoreUnavailableError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The database is unavailable (${reason}); try again shortly`, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * rooms.join was asked to create a room while the server already holds its maximum (MAX_ROOMS).
 * Checked inside the join's transaction (SQLite: IMMEDIATE; PostgreSQL: under an advisory lock), so
 * parallel joins from any number of processes cannot overshoot the cap.
 */
export class RoomLimitError extends Error {
  constructor(readonly maxRooms: number) {
    super(`The server already holds its maximum of ${maxRooms} rooms`);
    this.name = 'RoomLimitError';
  }
}
