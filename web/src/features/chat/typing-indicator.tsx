/** "alice is typing…" for everyone but me. Not a live region: the log already speaks for the room. */
export function TypingIndicator({ me, usernames }: { me: string; usernames: readonly string[] }) {
  const others = usernames.filter((name) => name !== me);
  let text = '';
  if (others.length === 1) text = `${others[0]} is typing…`;
  else if (others.length === 2) text = `${others[0]} and ${others[1]} are typing…`;
  else if (others.length > 2) text = `${others.length} people are typing…`;
  return <p className="typing">{text}</p>;
}
