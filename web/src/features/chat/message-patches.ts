import { replyExcerpt } from '../../../../shared/rules.ts';
import type { Message } from '../../lib/api-types.ts';

/** A change shown before the server confirmed it; dropped again on failure (rollback). */
export type MessagePatch = (message: Message) => Message;

export type ReplyQuote = NonNullable<Message['replyTo']>;

export function isDeleted(message: Message): boolean {
  return message.deletedAt !== null;
}

export function hasReacted(message: Message, emoji: string, username: string): boolean {
  return message.reactions.some((reaction) => reaction.emoji === emoji && reaction.usernames.includes(username));
}

export function editPatch(text: string, at: Date): MessagePatch {
  return (message) => (isDeleted(message) ? message : { ...message, text, editedAt: at.toISOString() });
}

/** What the server keeps of a deleted message: seq, author and time; text and reactions go. */
export function deletePatch(at: Date): MessagePatch {
  return (message) =>
    isDeleted(message) ? message : { ...message, text: '', deletedAt: at.toISOString(), reactions: [] };
}

export function reactPatch(emoji: string, username: string): MessagePatch {
  return (message) => {
    if (isDeleted(message) || hasReacted(message, emoji, username)) return message;
    const existing = message.reactions.find((reaction) => reaction.emoji === emoji);
    const reactions = existing
      ? message.reactions.map((reaction) =>
          reaction === existing
            ? { ...reaction, count: reaction.count + 1, usernames: [...reaction.usernames, username] }
            : reaction,
        )
      : [...message.reactions, { emoji, count: 1, usernames: [username] }];
    return { ...message, reactions };
  };
}

export function unreactPatch(emoji: string, username: string): MessagePatch {
  return (message) => {
    if (!hasReacted(message, emoji, username)) return message;
    const reactions = message.reactions
      .map((reaction) =>
        reaction.emoji === emoji
          ? {
              ...reaction,
              count: reaction.count - 1,
              usernames: reaction.usernames.filter((name) => name !== username),
            }
          : reaction,
      )
      .filter((reaction) => reaction.count > 0);
    return { ...message, reactions };
  };
}

/** The quote a pending reply shows until the server's copy (with its own quote) arrives: the same cut. */
export function quoteOf(message: Message): ReplyQuote {
  return {
    seq: message.seq,
    author: message.author,
    text: isDeleted(message) ? '' : replyExcerpt(message.text),
    deleted: isDeleted(message),
  };
}
