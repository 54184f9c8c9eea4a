import { CanFrameEvent } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { canFrameEvent } from './frames';

const DONGLE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const GROUP = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

describe('canFrameEvent', () => {
  it('shows a relayed frame as the console event: hex id, hex payload, ms timestamp', () => {
    const event = canFrameEvent(
      {
        tsUs: 1_766_417_462_000_123n,
        id: 0x7e8,
        extended: false,
        flags: 0,
        data: Uint8Array.from([0x02, 0x10, 0x03, 0, 0, 0, 0, 0xff]),
      },
      { dongleId: DONGLE, direction: 'rx', groupId: GROUP, seq: 41 },
    );
    expect(event).toEqual({
      ts: '2025-12-22T15:31:02.000Z',
      direction: 'rx',
      dongle_id: DONGLE,
      group_id: GROUP,
      id: '0x7E8',
      is_extended: false,
      dlc: 8,
      data: '02100300000000FF',
      seq: 41,
    });
    expect(CanFrameEvent.parse(event)).toEqual(event);
  });

  it('keeps a 29-bit id and an empty payload, and leaves out what it was not given', () => {
    const event = canFrameEvent(
      { tsUs: 0n, id: 0x18daf110, extended: true, flags: 0, data: new Uint8Array() },
      { dongleId: DONGLE, direction: 'tx' },
    );
    expect(event).toMatchObject({ id: '0x18DAF110', is_extended: true, dlc: 0, data: '' });
    expect(event).not.toHaveProperty('group_id');
    expect(event).not.toHaveProperty('seq');
    expect(CanFrameEvent.safeParse(event).success).toBe(true);
  });
});
