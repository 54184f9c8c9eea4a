import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/messages';

export interface Page<T> {
  items: T[];
  next: string | null;
}

type LoadPage<T> = (cursor: string | undefined, signal: AbortSignal) => Promise<Page<T>>;

/**
 * A keyset-paged list: loads the first page whenever `filterKey` changes, appends on loadMore, and
 * drops answers to requests that a newer one has replaced.
 */
export function useCursorList<T>(load: LoadPage<T>, filterKey: string) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const inFlight = useRef<AbortController | null>(null);
  const lastCursor = useRef<string | undefined>(undefined);

  const fetchPage = useCallback(async (cursor: string | undefined) => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    lastCursor.current = cursor;
    setLoading(true);
    setError(null);
    try {
      const page = await loadRef.current(cursor, controller.signal);
      if (controller.signal.aborted) return;
      setItems((previous) => (cursor === undefined ? page.items : [...previous, ...page.items]));
      setNext(page.next);
    } catch (caught) {
      if (!controller.signal.aborted) setError(errorMessage(caught));
    } finally {
      if (!controller.signal.aborted) setLoading(false);
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: filterKey is the reason to reload.
  useEffect(() => {
    void fetchPage(undefined);
    return () => inFlight.current?.abort();
  }, [filterKey, fetchPage]);

  return {
    items,
    loading,
    error,
    hasMore: next !== null,
    loadMore: () => next !== null && void fetchPage(next),
    retry: () => void fetchPage(lastCursor.current),
    /** Replaces items in place, e.g. a user row after disabling it. */
    update: (change: (item: T) => T) => setItems((previous) => previous.map(change)),
  };
}
