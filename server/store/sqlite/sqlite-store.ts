import { openDatabase } from '../../db/client.ts';
import {
  changeOfSeq,
  deleteMessage,
  editMessage,
  listChanges,
  reactToMessage,
  unreactToMessage,
} from '../message-changes.ts';
import { getMessage, insertMessage, insertMessages, listMessages, membersNamed } from '../messages.ts';
import { defaultMigrationsDir } from '../migrations-dir.ts';
import { leaveRoom, markRead, myRoom, myRooms } from '../my-rooms.ts';
import {
  findRoom,
  getRoomCreator,
  getRoomLastChange,
  getRoomLastChanges,
  getRoomLastSeq,
  getRoomLastSeqs,
  getRoomSummary,
  isMember,
  joinRoom,
  listMembers,
  listRoomSummaries,
} from '../rooms.ts';
import { searchMessages } from '../search.ts';
import {
  deleteExpiredSessions,
  deleteSession,
  deleteUserSessions,
  findSessionUser,
  insertSession,
  isSessionActive,
} from '../sessions.ts';
import {
  memberMessageCounts,
  roomMessageCounts,
  userMessageCount,
  userMessageCounts,
  userRoomCounts,
} from '../stats.ts';
import type { Store } from '../store.ts';
import { findUserByUsername, insertUser, updatePasswordHash } from '../users.ts';
import { settled } from './errors.ts';

export interface SqliteStoreOptions {
  /** A file path (its directory is created) or ':memory:'. */
  path: string;
  /** drizzle/sqlite unless given. */
  migrationsDir?: string;
}

/**
 * The embedded backend: better-sqlite3 (WAL, synchronous=FULL, decision 002) behind the async Store.
 * The queries are today's synchronous functions in server/store/*.ts, with their prepared statements;
 * each answer is handed back as an already-settled promise. insertBatch is one BEGIN IMMEDIATE
 * transaction (decision 011's group commit).
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const database = openDatabase(options.path, options.migrationsDir ?? defaultMigrationsDir('sqlite'));
  const { db, sqlite } = database;
  return {
    description: `sqlite ${options.path}`,
    users: {
      findByUsername: (username) => settled(() => findUserByUsername(db, username)),
      insert: (username, passwordHash) => settled(() => insertUser(db, username, passwordHash)),
      insertWithSession: (username, passwordHash, session) =>
        settled(() =>
          db.transaction(
            (tx) => {
              const user = insertUser(tx, username, passwordHash);
              if (user) insertSession(tx, user.id, session.tokenHash, session.expiresAt);
              return user;
            },
            { behavior: 'immediate' },
          ),
        ),
      setPasswordHash: (userId, passwordHash) => settled(() => updatePasswordHash(db, userId, passwordHash)),
      changePassword: (userId, passwordHash, keepSessionId) =>
        settled(() =>
          db.transaction(
            (tx) => {
              updatePasswordHash(tx, userId, passwordHash);
              return deleteUserSessions(tx, userId, keepSessionId);
            },
            { behavior: 'immediate' },
          ),
        ),
    },
    sessions: {
      insert: (userId, tokenHash, expiresAt) => settled(() => insertSession(db, userId, tokenHash, expiresAt)),
      findUser: (tokenHash, now) => settled(() => findSessionUser(db, tokenHash, now)),
      isActive: (sessionId, now) => settled(() => isSessionActive(db, sessionId, now)),
      delete: (sessionId) => settled(() => deleteSession(db, sessionId)),
      deleteForUser: (userId, options) => settled(() => deleteUserSessions(db, userId, options?.exceptSessionId)),
      deleteExpired: (now) => settled(() => deleteExpiredSessions(db, now)),
    },
    rooms: {
      find: (name) => settled(() => findRoom(db, name)),
      summary: (roomId) => settled(() => getRoomSummary(db, roomId)),
      list: (page) => settled(() => listRoomSummaries(db, page)),
      join: (userId, name, now, maxRooms) => settled(() => joinRoom(db, userId, name, now, maxRooms)),
      isMember: (roomId, userId) => settled(() => isMember(db, roomId, userId)),
      members: (roomId, page) => settled(() => listMembers(db, roomId, page)),
      lastSeq: (roomId) => settled(() => getRoomLastSeq(db, roomId)),
      lastSeqs: (names) => settled(() => getRoomLastSeqs(db, names)),
      lastChange: (roomId) => settled(() => getRoomLastChange(db, roomId)),
      lastChanges: (names) => settled(() => getRoomLastChanges(db, names)),
      creator: (roomId) => settled(() => getRoomCreator(db, roomId)),
      mine: (userId) => settled(() => myRooms(db, userId)),
      myRoom: (roomId, userId) => settled(() => myRoom(db, roomId, userId)),
      markRead: (roomId, userId, seq) => settled(() => markRead(db, roomId, userId, seq)),
      leave: (roomId, userId) => settled(() => leaveRoom(db, roomId, userId)),
      membersNamed: (roomId, usernames) => settled(() => membersNamed(db, roomId, usernames)),
    },
    messages: {
      list: (room, page) => settled(() => listMessages(db, room, page)),
      insertBatch: (inputs) => settled(() => insertMessages(db, inputs)),
      insertOne: (input) => settled(() => insertMessage(db, input)),
      get: (room, seq) => settled(() => getMessage(db, room, seq)),
      edit: (room, seq, text, now, mentions) => settled(() => editMessage(db, room, seq, text, now, mentions)),
      delete: (room, seq, now) => settled(() => deleteMessage(db, room, seq, now)),
      react: (room, seq, userId, emoji) => settled(() => reactToMessage(db, room, seq, userId, emoji)),
      unreact: (room, seq, userId, emoji) => settled(() => unreactToMessage(db, room, seq, userId, emoji)),
      changes: (room, after, limit) => settled(() => listChanges(db, room, after, limit)),
      changeOfSeq: (room, seq) => settled(() => changeOfSeq(db, room, seq)),
      search: (request) => settled(() => searchMessages(db, request)),
    },
    stats: {
      roomCounts: (page) => settled(() => roomMessageCounts(db, page)),
      userCounts: (page) => settled(() => userMessageCounts(db, page)),
      memberCounts: (roomId, page) => settled(() => memberMessageCounts(db, roomId, page)),
      userRoomCounts: (userId, page) => settled(() => userRoomCounts(db, userId, page)),
      userCount: (userId) => settled(() => userMessageCount(db, userId)),
    },
    ping: () => settled(() => void sqlite.prepare('select 1').get()),
    close: () => settled(() => database.close()),
  };
}
