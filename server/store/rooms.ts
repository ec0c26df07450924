import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, rooms, users } from '../db/schema.ts';
import type { RoomSummary } from '../schemas.ts';
import { perDatabase } from './prepared.ts';

export interface RoomRow {
  id: number;
  name: string;
}

const memberCount = sql<number>`(select count(*) from ${memberships} where ${memberships.roomId} = ${rooms.id})`;

const summaryColumns = {
  name: rooms.name,
  lastSeq: rooms.lastSeq,
  messageCount: rooms.messageCount,
  lastMessageAt: rooms.lastMessageAt,
  createdAt: rooms.createdAt,
  memberCount,
};

type SummaryRow = {
  name: string;
  lastSeq: number;
  messageCount: number;
  lastMessageAt: Date | null;
  createdAt: Date;
  memberCount: number;
};

function toSummary(row: SummaryRow): RoomSummary {
  return {
    name: row.name,
    memberCount: row.memberCount,
    messageCount: row.messageCount,
    lastSeq: row.lastSeq,
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

// Every room-scoped call looks its room up (and every post checks membership): prepared once per database.
const roomByName = perDatabase((db) =>
  db
    .select({ id: rooms.id, name: rooms.name })
    .from(rooms)
    .where(eq(rooms.name, sql.placeholder('name')))
    .prepare(),
);

const membershipQuery = perDatabase((db) =>
  db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.roomId, sql.placeholder('roomId')), eq(memberships.userId, sql.placeholder('userId'))))
    .prepare(),
);

export function findRoom(db: Db, name: string): RoomRow | undefined {
  return roomByName(db).get({ name });
}

export function getRoomSummary(db: Db, roomId: number): RoomSummary | undefined {
  const row = db.select(summaryColumns).from(rooms).where(eq(rooms.id, roomId)).get();
  return row && toSummary(row);
}

/** Most recently active first; rooms without messages last, by name. */
export function listRoomSummaries(db: Db): RoomSummary[] {
  return db
    .select(summaryColumns)
    .from(rooms)
    .orderBy(sql`${rooms.lastMessageAt} is null`, desc(rooms.lastMessageAt), asc(rooms.name))
    .all()
    .map(toSummary);
}

/**
 * Creates the room if it does not exist and makes the user a member, in one transaction.
 * Joining again is harmless: the original join time is kept.
 */
export function joinRoom(
  db: Db,
  userId: number,
  name: string,
  now: Date,
): { room: RoomRow; created: boolean; joined: boolean } {
  return db.transaction(
    (tx) => {
      const inserted = tx
        .insert(rooms)
        .values({ name })
        .onConflictDoNothing()
        .returning({ id: rooms.id, name: rooms.name })
        .get();
      const room =
        inserted ?? tx.select({ id: rooms.id, name: rooms.name }).from(rooms).where(eq(rooms.name, name)).get();
      if (!room) throw new Error(`room ${name} vanished inside its own transaction`);
      const membership = tx
        .insert(memberships)
        .values({ roomId: room.id, userId, joinedAt: now })
        .onConflictDoNothing()
        .run();
      return { room, created: inserted !== undefined, joined: membership.changes > 0 };
    },
    { behavior: 'immediate' },
  );
}

export function isMember(db: Db, roomId: number, userId: number): boolean {
  return membershipQuery(db).get({ roomId, userId }) !== undefined;
}

export interface MemberRow {
  username: string;
  joinedAt: Date;
  messageCount: number;
}

export function listMembers(db: Db, roomId: number): MemberRow[] {
  return db
    .select({ username: users.username, joinedAt: memberships.joinedAt, messageCount: memberships.messageCount })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.roomId, roomId))
    .orderBy(asc(memberships.joinedAt), asc(users.username))
    .all();
}

export function getRoomLastSeq(db: Db, roomId: number): number {
  const row = db.select({ lastSeq: rooms.lastSeq }).from(rooms).where(eq(rooms.id, roomId)).get();
  if (!row) throw new Error(`room ${roomId} not found`);
  return row.lastSeq;
}
