import { useCallback, useEffect, useRef, useState } from 'react';

type Load<T> = (signal: AbortSignal) => Promise<T>;
/** A fixed interval, or one chosen from the latest answer (e.g. fast only while something is in progress). */
type Interval<T> = number | null | ((data: T | null, error: unknown) => number | null);

/**
 * Data loaded at once and then every `interval` ms (null: no polling) while the tab is visible. A tick is
 * skipped while a request is still out; `reload()` always asks again and its answer wins over older ones.
 * A failed refresh keeps the last data and reports the error until a later one succeeds.
 */
export function usePolled<T>(load: Load<T>, interval: Interval<T>) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const intervalMs = typeof interval === 'function' ? interval(data, error) : interval;
  const loadRef = useRef(load);
  loadRef.current = load;
  const latest = useRef<AbortController | null>(null);

  const reload = useCallback(async () => {
    latest.current?.abort();
    const controller = new AbortController();
    latest.current = controller;
    try {
      const value = await loadRef.current(controller.signal);
      if (controller.signal.aborted) return;
      setData(value);
      setError(null);
    } catch (caught) {
      if (!controller.signal.aborted) setError(caught);
    } finally {
      if (latest.current === controller) latest.current = null;
    }
  }, []);

  useEffect(() => {
    void reload();
    return () => latest.current?.abort();
  }, [reload]);

  useEffect(() => {
    if (intervalMs === null) return;
    const tick = () => {
      if (!document.hidden && latest.current === null) void reload();
    };
    const timer = setInterval(tick, intervalMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [intervalMs, reload]);

  return { data, error, reload, setData };
}
