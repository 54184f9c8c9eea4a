import { ApiError } from './errors';

/** Opaque keyset cursor for lists ordered by (created_at desc, id desc). */
export type Position = { createdAt: Date; id: string };

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string') throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw new ApiError(400, 'VALIDATION_ERROR', 'The cursor is not valid', {
      fields: [{ path: 'cursor', message: 'not a cursor returned by this list' }],
    });
  }
}
