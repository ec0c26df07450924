import type { MessageDto, RoomSummary } from '../schemas.ts';

/** A message as both backends read it, before the room name is added. */
export type MessageRow = {
  id: number;
  seq: number;
  author: string;
  text: string;
  createdAt: Date;
  clientId: string | null;
};

/**
 * Keys in messageSchema's order (the order a freshly posted message has), on both backends, so the
 * history and live frames of a message are byte for byte identical whichever database holds it.
 */
export function toMessageDto(room: string, row: MessageRow): MessageDto {
  const { id, seq, author, text, createdAt, clientId } = row;
  return { id, room, seq, author, text, createdAt: createdAt.toISOString(), clientId };
}

/** A room's summary as both backends read it (memberCount from a subquery). */
export type RoomSummaryRow = {
  name: string;
  lastSeq: number;
  messageCount: number;
  lastMessageAt: Date | null;
  createdAt: Date;
  memberCount: number;
};

export function toRoomSummary(row: RoomSummaryRow): RoomSummary {
  return {
    name: row.name,
    memberCount: row.memberCount,
    messageCount: row.messageCount,
    lastSeq: row.lastSeq,
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
