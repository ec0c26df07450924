import { isSingleEmoji } from '../../../../shared/rules.ts';

export interface EmojiChoice {
  emoji: string;
  /** Its CLDR short name: the button's accessible name, and what the search matches first. */
  name: string;
  /** More words the search matches. */
  keywords: string;
}

/**
 * The picker's common reactions, by hand: a library with the whole Unicode set and its names would
 * weigh tens of KiB for a picker that mostly offers these. Any other emoji can still be pasted into
 * the search field and used (see EmojiPicker).
 */
export const COMMON_EMOJI: readonly EmojiChoice[] = [
  { emoji: '👍', name: 'thumbs up', keywords: 'like yes agree +1 ok' },
  { emoji: '👎', name: 'thumbs down', keywords: 'dislike no disagree -1' },
  { emoji: '❤️', name: 'red heart', keywords: 'love like' },
  { emoji: '😂', name: 'face with tears of joy', keywords: 'laugh lol funny' },
  { emoji: '😄', name: 'grinning face with smiling eyes', keywords: 'smile happy' },
  { emoji: '🙂', name: 'slightly smiling face', keywords: 'smile' },
  { emoji: '😉', name: 'winking face', keywords: 'wink' },
  { emoji: '😍', name: 'smiling face with heart-eyes', keywords: 'love' },
  { emoji: '🤔', name: 'thinking face', keywords: 'think hmm' },
  { emoji: '😮', name: 'face with open mouth', keywords: 'wow surprised' },
  { emoji: '😢', name: 'crying face', keywords: 'sad tear' },
  { emoji: '😭', name: 'loudly crying face', keywords: 'sad sob' },
  { emoji: '😅', name: 'grinning face with sweat', keywords: 'phew relief' },
  { emoji: '😎', name: 'smiling face with sunglasses', keywords: 'cool' },
  { emoji: '🙃', name: 'upside-down face', keywords: 'silly sarcasm' },
  { emoji: '😬', name: 'grimacing face', keywords: 'awkward oops' },
  { emoji: '😡', name: 'enraged face', keywords: 'angry mad' },
  { emoji: '🤯', name: 'exploding head', keywords: 'mind blown shocked' },
  { emoji: '🥳', name: 'partying face', keywords: 'party celebrate' },
  { emoji: '😴', name: 'sleeping face', keywords: 'tired sleep' },
  { emoji: '🙏', name: 'folded hands', keywords: 'thanks please pray' },
  { emoji: '👏', name: 'clapping hands', keywords: 'applause bravo' },
  { emoji: '🙌', name: 'raising hands', keywords: 'hooray celebrate' },
  { emoji: '👋', name: 'waving hand', keywords: 'hello hi bye' },
  { emoji: '💪', name: 'flexed biceps', keywords: 'strong' },
  { emoji: '👀', name: 'eyes', keywords: 'look see watching' },
  { emoji: '🤝', name: 'handshake', keywords: 'deal agree' },
  { emoji: '✅', name: 'check mark button', keywords: 'done yes ok' },
  { emoji: '❌', name: 'cross mark', keywords: 'no wrong' },
  { emoji: '❓', name: 'red question mark', keywords: 'question' },
  { emoji: '❗', name: 'red exclamation mark', keywords: 'important' },
  { emoji: '💯', name: 'hundred points', keywords: '100 perfect' },
  { emoji: '🔥', name: 'fire', keywords: 'hot lit' },
  { emoji: '🎉', name: 'party popper', keywords: 'celebrate tada congratulations' },
  { emoji: '✨', name: 'sparkles', keywords: 'shiny new' },
  { emoji: '⭐', name: 'star', keywords: 'favourite favorite' },
  { emoji: '🚀', name: 'rocket', keywords: 'ship launch fast' },
  { emoji: '💡', name: 'light bulb', keywords: 'idea' },
  { emoji: '🐛', name: 'bug', keywords: 'insect error' },
  { emoji: '☕', name: 'hot beverage', keywords: 'coffee tea break' },
  { emoji: '🍕', name: 'pizza', keywords: 'food lunch' },
  { emoji: '💚', name: 'green heart', keywords: 'love' },
];

/** Common emoji whose name or keywords contain every word of `query`. */
export function searchEmoji(query: string): readonly EmojiChoice[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return COMMON_EMOJI;
  return COMMON_EMOJI.filter((choice) => {
    const haystack = `${choice.name} ${choice.keywords}`;
    return words.every((word) => haystack.includes(word));
  });
}

/** `text` when it is a single emoji the server accepts (typed or pasted into the search), otherwise null. */
export function singleEmoji(text: string): string | null {
  const trimmed = text.trim();
  return isSingleEmoji(trimmed) ? trimmed : null;
}
