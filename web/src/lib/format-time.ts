const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayWithYearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });

export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "14:05" for today, "Mar 3, 14:05" before that. Computed once per render: it never ticks. */
export function shortTime(date: Date, now = new Date()): string {
  return sameDay(date, now) ? timeFormat.format(date) : dayTimeFormat.format(date);
}

/** e.g. "Tuesday, March 3, 2026 at 14:05:09", for the hover title. */
export function fullTime(date: Date): string {
  return fullFormat.format(date);
}

/** "Today", "Yesterday", "Monday, March 2", or with the year when it is not this year: for day separators. */
export function dayLabel(date: Date, now = new Date()): string {
  if (sameDay(date, now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(date, yesterday)) return 'Yesterday';
  return date.getFullYear() === now.getFullYear() ? dayFormat.format(date) : dayWithYearFormat.format(date);
}

/** e.g. "Tuesday, March 3, 2026", for a day separator's hover title. */
export function fullDay(date: Date): string {
  return dayWithYearFormat.format(date);
}
