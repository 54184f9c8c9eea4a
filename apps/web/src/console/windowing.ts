/**
 * Which rows of a long list of fixed-height rows to put in the DOM: those in the viewport plus `overscan`
 * rows on either side; the rest is stood in for by padding above and below, so that the scroll bar is that of
 * the whole list.
 */
export type WindowInput = {
  count: number;
  rowHeight: number;
  scrollTop: number;
  viewportHeight: number;
  overscan: number;
};

export type RowWindow = {
  /** First row rendered. */
  start: number;
  /** One past the last row rendered. */
  end: number;
  /** Height standing in for the rows above `start`, and below `end`. */
  padTop: number;
  padBottom: number;
};

export function rowWindow({ count, rowHeight, scrollTop, viewportHeight, overscan }: WindowInput): RowWindow {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const maxTop = Math.max(0, count * rowHeight - viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), maxTop);
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/**
 * Where to scroll so that the rows in view stay put when `added` rows were put above them (a newest-first
 * list growing while the user reads further down). At the very top the list stays at the top, following the
 * newest rows.
 */
export function anchoredScrollTop(scrollTop: number, added: number, rowHeight: number): number {
  if (scrollTop <= 0 || added <= 0) return scrollTop;
  return scrollTop + added * rowHeight;
}

/** In a newest-first list (arrival numbers `n` descending), how many rows are newer than arrival `n`. */
export function countNewer(rows: readonly { n: number }[], n: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rows[mid]?.n ?? 0) > n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
