import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor';
import { ApiError } from './errors';

describe('keyset cursors', () => {
  it('round-trips a position', () => {
    const p = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: '0f6c1f1e-7d2b-4b8e-9b7c-2d1f3a4b5c6d' };
    expect(decodeCursor(encodeCursor(p))).toEqual(p);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it.each([
    'garbage',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('{"a":1}').toString('base64url'),
  ])('rejects %s with VALIDATION_ERROR', (bad) => {
    expect(() => decodeCursor(bad)).toThrow(ApiError);
  });
});
