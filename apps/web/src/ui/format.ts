const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const date = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A timestamp in the reader's locale and time zone; the ISO text stays in the tooltip. */
export function formatDateTime(iso: string): string {
  const value = new Date(iso);
  return Number.isNaN(value.getTime()) ? iso : dateTime.format(value);
}

export function formatDate(iso: string): string {
  const value = new Date(iso);
  return Number.isNaN(value.getTime()) ? iso : date.format(value);
}

/** The time of day only, e.g. "15:31:10", for something that just happened. */
export function formatTime(iso: string): string {
  const value = new Date(iso);
  return Number.isNaN(value.getTime()) ? iso : time.format(value);
}

/** Details objects as one line of JSON with spaces to wrap at, or a dash when there are none. */
export function compactJson(value: Record<string, unknown>): string {
  if (Object.keys(value).length === 0) return '—';
  // Newlines only come from the indentation: JSON escapes those inside strings.
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ');
}
