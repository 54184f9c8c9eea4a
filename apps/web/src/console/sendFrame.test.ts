import { describe, expect, it } from 'vitest';
import { SITUATIONS } from '../api/messages';
import { frameRequest } from './sendFrame';

describe('frameRequest', () => {
  it('turns a typed OBD-II request into the request body', () => {
    expect(frameRequest({ to: 'a', id: '0x7DF', data: '02 01 0d' })).toEqual({
      ok: true,
      request: { to: 'a', frames: [{ id: 0x7df, extended: false, data: '02010D' }] },
    });
  });

  it('takes an id with or without 0x, and sends ids above 0x7FF as 29-bit', () => {
    const sent = frameRequest({ to: 'b', id: '18daf110', data: '' });
    expect(sent).toEqual({
      ok: true,
      request: { to: 'b', frames: [{ id: 0x18daf110, extended: true, data: '' }] },
    });
  });

  it('accepts bytes separated by spaces, colons, dots or dashes', () => {
    const sent = frameRequest({ to: 'a', id: '7DF', data: '02:01-0C.00 00' });
    expect(sent.ok && sent.request.frames[0]?.data).toBe('02010C0000');
  });

  it('says what is wrong with the id', () => {
    expect(frameRequest({ to: 'a', id: ' ', data: '' })).toEqual({
      ok: false,
      problems: { id: SITUATIONS.canIdMissing },
    });
    expect(frameRequest({ to: 'a', id: '7G8', data: '' })).toEqual({
      ok: false,
      problems: { id: SITUATIONS.canIdNotHex },
    });
    expect(frameRequest({ to: 'a', id: '20000000', data: '' })).toEqual({
      ok: false,
      problems: { id: SITUATIONS.canIdTooLarge },
    });
  });

  it('says what is wrong with the data', () => {
    const data = (text: string) => {
      const result = frameRequest({ to: 'a', id: '7DF', data: text });
      return result.ok ? null : result.problems.data;
    };
    expect(data('02010')).toBe(SITUATIONS.canDataHalfByte);
    expect(data('0201XY')).toBe(SITUATIONS.canDataNotHex);
    expect(data('000000000000000000')).toBe(SITUATIONS.canDataTooLong);
  });

  it('reports both fields at once', () => {
    const result = frameRequest({ to: 'a', id: '', data: 'Q' });
    expect(result.ok ? null : Object.keys(result.problems).sort()).toEqual(['data', 'id']);
  });
});
