import { CommandStatusEvent } from '@canopy/protocol';
import { useEffect, useRef } from 'react';
import { consoleUrl } from '../api/streams';

/**
 * Command status from the dongle's live console (SSE `command_status`, spec 002 §16 on §18's stream): while
 * `following` (some command of the page is unfinished) one EventSource is open, and each status change is
 * handed to `onStatus`. The browser reconnects by itself (with Last-Event-ID); the page still asks now and then
 * in case the stream is unavailable.
 */
export function useCommandEvents(
  dongleId: string,
  following: boolean,
  onStatus: (event: CommandStatusEvent) => void,
): void {
  const handler = useRef(onStatus);
  handler.current = onStatus;
  useEffect(() => {
    if (!following || typeof EventSource === 'undefined') return;
    const source = new EventSource(consoleUrl('dongle', dongleId));
    const listener = (message: MessageEvent<string>) => {
      try {
        const parsed = CommandStatusEvent.safeParse(JSON.parse(message.data));
        if (parsed.success) handler.current(parsed.data);
      } catch {
        // not JSON: ignored, the page's own asking covers it
      }
    };
    source.addEventListener('command_status', listener);
    return () => {
      source.removeEventListener('command_status', listener);
      source.close();
    };
  }, [dongleId, following]);
}
