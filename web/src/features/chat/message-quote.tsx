import type { ReplyQuote } from './message-patches.ts';

interface MessageQuoteProps {
  quote: ReplyQuote;
  /** The original is known to be deleted (the quote may predate it). */
  deleted: boolean;
  onJump?: ((seq: number) => void) | undefined;
}

/**
 * The message a reply answers, above the reply's text; activating it shows the original. One line
 * of inline text, so its accessible name reads as shown: "In reply to alice: the excerpt".
 */
export function MessageQuote({ quote, deleted, onJump }: MessageQuoteProps) {
  const content = (
    <>
      <span className="visually-hidden">In reply to </span>
      <span className="quote__author">{quote.author}:</span>{' '}
      {deleted ? (
        <span className="quote__text quote__text--deleted">This message was deleted</span>
      ) : (
        <span className="quote__text">{quote.text}</span>
      )}
    </>
  );
  if (!onJump) return <p className="quote">{content}</p>;
  return (
    <button type="button" className="quote" title="Show the original message" onClick={() => onJump(quote.seq)}>
      {content}
    </button>
  );
}
