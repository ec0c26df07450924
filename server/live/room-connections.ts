/**
 * How many open subscriptions each user has in each room, on this instance: a user is online in a
 * room while at least one is open, so many tabs count once. Both presence trackers count with it.
 */
export class RoomConnections {
  private readonly rooms = new Map<string, Map<string, number>>();

  /** Counts one more; true when it is the user's first in the room (they just came online). */
  add(room: string, username: string): boolean {
    let users = this.rooms.get(room);
    if (!users) {
      users = new Map();
      this.rooms.set(room, users);
    }
    const before = users.get(username) ?? 0;
    users.set(username, before + 1);
    return before === 0;
  }

  /** Counts one fewer; true when it was the user's last in the room (they just went offline). */
  remove(room: string, username: string): boolean {
    const users = this.rooms.get(room);
    const count = users?.get(username) ?? 0;
    if (!users || count === 0) return false;
    if (count > 1) {
      users.set(username, count - 1);
      return false;
    }
    users.delete(username);
    if (users.size === 0) this.rooms.delete(room);
    return true;
  }

  /** Whether anyone is connected to the room here. */
  has(room: string): boolean {
    return this.rooms.has(room);
  }

  usernames(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }

  /** Every room with someone connected, and who. */
  entries(): Array<[room: string, usernames: string[]]> {
    return [...this.rooms].map(([room, users]) => [room, [...users.keys()]]);
  }

  clear(): void {
    this.rooms.clear();
  }
}
