/**
 * Stream entry ids the Redis way: "<ms>-<seq>", ordered by ms then seq. "<ms>" alone means "<ms>-0".
 * Sequence numbers stay far below 2^53 in practice (a million entries within one millisecond would be needed).
 */

const STREAM_ID = /^(\d{1,16})(?:-(\d{1,16}))?$/;

/** Whether `id` is a stream id this code can compare (what a client sends back as Last-Event-ID is checked). */
export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

/** [ms, seq]; throws on anything that is not a stream id. */
export function parseStreamId(id: string): [number, number] {
  const m = STREAM_ID.exec(id);
  if (!m) throw new Error(`not a stream id: ${JSON.stringify(id.slice(0, 40))}`);
  return [Number(m[1]), Number(m[2] ?? 0)];
}

/** Negative, zero or positive as a is before, the same as or after b. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parseStreamId(a);
  const [bm, bs] = parseStreamId(b);
  return am !== bm ? Math.sign(am - bm) : Math.sign(as - bs);
}

/** The smallest id greater than `id` (to turn "after id" into an inclusive start, or "up to id" into MINID). */
export function nextStreamId(id: string): string {
  const [ms, seq] = parseStreamId(id);
  return `${ms}-${seq + 1}`;
}

/** The milliseconds part: when the entry was added, by the clock of whoever made the id. */
export function streamIdTime(id: string): number {
  return parseStreamId(id)[0];
}
