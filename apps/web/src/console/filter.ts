/*
 * The console's filters: CAN ids typed as text ("7E8", "0x7DF, 7E8-7EF": hex, with or without 0x, separated
 * by commas or spaces, ranges with a dash) and one direction. Pure, so that the table filters 10,000 frames
 * without asking React.
 */

export type IdRange = { from: number; to: number };
export type IdFilter = { ranges: IdRange[] };

export type ParsedIds = { ok: true; filter: IdFilter | null } | { ok: false; problem: string };

const MAX_ID = 0x1fffffff;
const HEX = /^(?:0x)?([0-9a-f]{1,8})$/i;

function parseId(text: string): number | null {
  const m = HEX.exec(text);
  if (!m?.[1]) return null;
  const id = Number.parseInt(m[1], 16);
  return id <= MAX_ID ? id : null;
}

/** The ids typed in the filter box; an empty box filters nothing (`filter` null). */
export function parseIdFilter(text: string): ParsedIds {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return { ok: true, filter: null };
  const ranges: IdRange[] = [];
  for (const part of parts) {
    const [first, second, ...rest] = part.split('-');
    const from = parseId(first ?? '');
    const to = second === undefined ? from : parseId(second);
    if (from === null || to === null || rest.length > 0) {
      return {
        ok: false,
        problem: `"${part}" is not a CAN id in hex. Type ids like 7E8 or 0x7DF, or a range like 7E8-7EF.`,
      };
    }
    if (to < from) return { ok: false, problem: `The range "${part}" ends before it starts.` };
    ranges.push({ from, to });
  }
  return { ok: true, filter: { ranges } };
}

export function idMatches(filter: IdFilter | null, id: number): boolean {
  if (!filter) return true;
  return filter.ranges.some((r) => id >= r.from && id <= r.to);
}

/** Where a frame went: across a group (A → B, B → A) or, on a dongle's console, read off (rx) or written to (tx) its bus. */
export type Way = 'a_to_b' | 'b_to_a' | 'rx' | 'tx';
export type WayFilter = Way | 'all';

export type FrameFilter = { ids: IdFilter | null; way: WayFilter };

export function frameMatches(filter: FrameFilter, frame: { id: number; way: Way }): boolean {
  return (filter.way === 'all' || filter.way === frame.way) && idMatches(filter.ids, frame.id);
}

/** The frames that pass, in the order given (a no-op filter returns the same array). */
export function applyFilter<T extends { id: number; way: Way }>(frames: T[], filter: FrameFilter): T[] {
  if (filter.way === 'all' && !filter.ids) return frames;
  return frames.filter((f) => frameMatches(filter, f));
}
