import { useCallback, useEffect, useState } from 'react';
import { consoleUrl } from '../api/streams';
import { EVENT_TYPES } from './events';
import { ConsoleModel, type ConsoleSource } from './model';

/** live: events flow; reconnecting: the connection dropped, the browser (or this hook) is opening it again. */
export type Connection = 'connecting' | 'live' | 'reconnecting';

/** Redraws at most this often however fast frames come, so that 500 frames a second cost ~5 renders. */
const DRAW_MS = 200;
/** After the server refused the stream (EventSource gives up by itself then), try again after this long. */
const RETRY_MS = [2_000, 5_000, 10_000, 30_000];

/**
 * One live console over SSE: the model it fills, the connection state, and pause/resume. The browser's
 * EventSource reconnects by itself and sends Last-Event-ID; when the server refused the stream outright (an
 * error status) it stops, and this hook opens a new one, passing the last id it saw in the query.
 */
export function useLiveConsole(source: ConsoleSource) {
  const [model] = useState(() => new ConsoleModel(source));
  const [connection, setConnection] = useState<Connection>('connecting');
  const [, setDrawn] = useState(0);
  const redraw = useCallback(() => setDrawn((n) => n + 1), []);

  useEffect(() => {
    let stream: EventSource | null = null;
    let lastEventId: string | undefined;
    let failures = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;

    const onEvent = (event: MessageEvent) => {
      if (event.lastEventId) lastEventId = event.lastEventId;
      model.receive(event.type, typeof event.data === 'string' ? event.data : '', Date.now());
    };
    const open = () => {
      const current = new EventSource(consoleUrl(model.source.kind, model.source.id, lastEventId));
      stream = current;
      current.onopen = () => {
        failures = 0;
        setConnection('live');
      };
      current.onerror = () => {
        setConnection('reconnecting');
        if (current.readyState !== EventSource.CLOSED) return;
        const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
        failures += 1;
        retry = setTimeout(open, wait);
      };
      for (const type of EVENT_TYPES) current.addEventListener(type, onEvent);
    };
    open();

    let drawnVersion = -1;
    let drawnSecond = 0;
    const timer = setInterval(() => {
      // The sparkline moves on every second even when nothing arrives.
      const second = Math.floor(Date.now() / 1000);
      if (model.version === drawnVersion && second === drawnSecond) return;
      drawnVersion = model.version;
      drawnSecond = second;
      redraw();
    }, DRAW_MS);

    return () => {
      clearInterval(timer);
      clearTimeout(retry);
      stream?.close();
    };
  }, [model, redraw]);

  const pause = useCallback(() => {
    model.pause();
    redraw();
  }, [model, redraw]);
  const resume = useCallback(() => {
    model.resume();
    redraw();
  }, [model, redraw]);

  return { model, connection, pause, resume, redraw };
}
