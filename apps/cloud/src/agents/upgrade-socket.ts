import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from '@canopy/protocol';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ApiError } from '../http/errors';

/** Bytes a client may send before its 101 (a first frame or two at most). */
export const MAX_EARLY_BYTES = 64 * 1024;

/**
 * Node's HTTP server stops reading a socket it hands to 'upgrade', so a client that hangs up while its
 * upgrade waits goes unseen. Read it meanwhile: a WebSocket client sends nothing before the 101 (RFC 6455
 * §4.1), and whatever does arrive is kept and handed to the WebSocket with `head`.
 */
export function watchHangUp(socket: Duplex, head: Buffer) {
  let gone = false;
  let released = false;
  const chunks: Buffer[] = [head];
  let size = head.length;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    // Nothing should come before the 101: a client that keeps sending is cut off, not buffered.
    if (size > MAX_EARLY_BYTES) socket.destroy();
    else chunks.push(chunk);
  };
  const onGone = () => {
    gone = true;
  };
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('close', onGone);
  return {
    gone: () => gone || socket.destroyed,
    /** Stops watching (call in the same tick as the upgrade: the socket keeps flowing); returns `head`. */
    release(): Buffer {
      if (!released) {
        released = true;
        socket.off('data', onData);
        socket.off('end', onGone);
        socket.off('close', onGone);
      }
      return Buffer.concat(chunks);
    },
  };
}

/** ws's handleUpgrade, as a promise; null when ws dropped the socket without calling back (it had closed). */
export function completeUpgrade(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(null);
    const onClose = () => resolve(null);
    socket.once('close', onClose);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose);
      resolve(ws);
    });
  });
}

/** Answers an upgrade request with an HTTP error (`{code, message, details}`) and closes the socket. */
export function rejectUpgrade(socket: Duplex, error: ApiError, headers: Record<string, string> = {}): void {
  const body: ErrorBody = { code: error.code, message: error.message, details: error.details };
  const json = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${extra}Connection: close\r\n\r\n${json}`,
  );
}
