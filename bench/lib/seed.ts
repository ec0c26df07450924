import { openDatabase } from '../../server/db/client.ts';
import { hashPassword } from '../../server/lib/password.ts';
import { createSessionToken, hashSessionToken, SESSION_TTL_MS } from '../../server/lib/session-token.ts';

export const BENCH_PASSWORD = 'bench password 1';

export interface SeededUser {
  username: string;
  token: string;
}

export interface SeedOptions {
  users: number;
  room: string;
  messages: number;
  /** More rooms every user is a member of, without messages. */
  extraRooms?: string[];
}

export interface Seed extends SeedOptions {
  path: string;
  /** Each user has one live session; the token works as a Bearer token or WebSocket connectionParams. */
  accounts: SeededUser[];
}

/** Message texts of varied, realistic length (20–180 characters), deterministic per index. */
export function messageText(index: number): string {
  const words = ['hello', 'deploy', 'looks', 'good', 'to', 'me', 'ship', 'it', 'after', 'lunch', 'the', 'build'];
  const length = 20 + ((index * 37) % 160);
  let text = `#${index}`;
  for (let word = index; text.length < length; word += 7) text += ` ${words[word % words.length]}`;
  return text.slice(0, length);
}

/**
 * Writes users, sessions, one room, memberships and messages straight into a SQLite file with
 * the real schema (openDatabase applies the migrations), with every counter consistent, as if
 * they had been created through the API. Much faster than the API: sign-up hashes a password
 * with argon2id (tens of milliseconds each) and every post is its own fsync.
 */
export async function seedDatabase(path: string, options: SeedOptions): Promise<Seed> {
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const database = openDatabase(path);
  const { sqlite } = database;
  const now = Date.now();
  const start = now - options.messages * 1000;
  const accounts: SeededUser[] = [];
  try {
    const insertUser = sqlite.prepare(
      'insert into users (username, password_hash, message_count, created_at) values (?, ?, ?, ?)',
    );
    const insertSession = sqlite.prepare(
      'insert into sessions (token_hash, user_id, created_at, expires_at) values (?, ?, ?, ?)',
    );
    const insertRoom = sqlite.prepare(
      'insert into rooms (name, last_seq, message_count, last_message_at, created_at) values (?, ?, ?, ?, ?)',
    );
    const insertMembership = sqlite.prepare(
      'insert into memberships (room_id, user_id, joined_at, message_count) values (?, ?, ?, ?)',
    );
    const insertMessage = sqlite.prepare(
      'insert into messages (room_id, seq, author_id, text, client_id, created_at) values (?, ?, ?, ?, null, ?)',
    );

    sqlite.transaction(() => {
      const perUser = (userIndex: number) =>
        Math.floor(options.messages / options.users) + (userIndex < options.messages % options.users ? 1 : 0);
      const lastMessageAt = options.messages > 0 ? start + (options.messages - 1) * 1000 : null;
      const roomId = Number(
        insertRoom.run(options.room, options.messages, options.messages, lastMessageAt, start - 1000).lastInsertRowid,
      );
      const extraRoomIds = (options.extraRooms ?? []).map((name) =>
        Number(insertRoom.run(name, 0, 0, null, start - 1000).lastInsertRowid),
      );
      const userIds: number[] = [];
      for (let i = 0; i < options.users; i += 1) {
        const username = `bench_${i}`;
        const userId = Number(insertUser.run(username, passwordHash, perUser(i), start - 2000).lastInsertRowid);
        userIds.push(userId);
        const token = createSessionToken();
        insertSession.run(hashSessionToken(token), userId, now, now + SESSION_TTL_MS);
        insertMembership.run(roomId, userId, start - 1000 + i, perUser(i));
        for (const extraRoomId of extraRoomIds) insertMembership.run(extraRoomId, userId, start - 1000 + i, 0);
        accounts.push({ username, token });
      }
      // Message i (seq i + 1) is by user i mod users: matches perUser above.
      for (let i = 0; i < options.messages; i += 1) {
        const authorId = userIds[i % options.users];
        if (authorId === undefined) throw new Error('no users to author messages');
        insertMessage.run(roomId, i + 1, authorId, messageText(i), start + i * 1000);
      }
    })();
  } finally {
    database.close();
  }
  return { ...options, path, accounts };
}
