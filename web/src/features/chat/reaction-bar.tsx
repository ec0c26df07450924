import type { Message } from '../../lib/api-types.ts';

interface ReactionBarProps {
  reactions: Message['reactions'];
  me: string;
  onToggle: (emoji: string) => void;
}

/** One toggle button per emoji: its count, pressed when I reacted with it, who reacted on hover. */
export function ReactionBar({ reactions, me, onToggle }: ReactionBarProps) {
  return (
    <ul className="reactions" aria-label="Reactions">
      {reactions.map((reaction) => {
        const mine = reaction.usernames.includes(me);
        return (
          <li key={reaction.emoji}>
            <button
              type="button"
              className={mine ? 'reaction reaction--mine' : 'reaction'}
              aria-pressed={mine}
              title={reaction.usernames.join(', ')}
              onClick={() => onToggle(reaction.emoji)}
            >
              <span className="reaction__emoji">{reaction.emoji}</span>{' '}
              <span className="reaction__count">{reaction.count}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
