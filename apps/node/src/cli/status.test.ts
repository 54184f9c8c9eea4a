import { describe, expect, it } from 'vitest';
import { meshLine, relayLines } from './status';

describe('relayLines', () => {
  it('says the relay is off, or not connected and why', () => {
    expect(relayLines(undefined)).toBeNull();
    expect(relayLines({ enabled: false })).toEqual(['off']);
    expect(relayLines({ enabled: true, connected: false, lastError: 'HTTP 401', sides: [] })).toEqual([
      'not connected (HTTP 401)',
    ]);
  });

  it('gives a line per bridged side, with drops and gaps only when there are some', () => {
    const lines = relayLines({
      enabled: true,
      connected: true,
      sides: [
        {
          groupId: '8823d1eb-606a-4f14-a948-96ff5773b0d1',
          side: 'a',
          state: 'bridging',
          framesUp: 72473,
          framesDown: 86891,
          queued: 0,
          gaps: 0,
          missing: 0,
        },
        {
          groupId: '3e086479-6a4f-43b6-ad16-6d83477644c0',
          side: 'b',
          state: 'token_rejected',
          gaps: 2,
          missing: 40,
        },
      ],
      drops: { upLinkDown: 0, upBackpressure: 1200 },
    });
    expect(lines).toEqual([
      'connected, bridging 2 group sides; frames dropped: 1,200 upBackpressure',
      'group 8823d1eb side a: bridging, 72,473 frames up, 86,891 down, 0 queued',
      'group 3e086479 side b: token_rejected, 0 frames up, 0 down, 0 queued, 2 gaps (40 frames missing)',
    ]);
  });
});

describe('meshLine', () => {
  it('says the mesh is off, or why it is not running', () => {
    expect(meshLine(undefined)).toBeNull();
    expect(meshLine({ enabled: false })).toBe('off');
    expect(meshLine({ enabled: false, error: 'the device mesh could not start: port 9848 is in use' })).toBe(
      'not running: the device mesh could not start: port 9848 is in use',
    );
  });

  it('gives the port, the paired devices by status and the owner page', () => {
    expect(meshLine({ enabled: true, port: 9848, uiUrl: 'http://127.0.0.1:9849/', devices: {} })).toBe(
      'on port 9848, no devices paired; My Devices at http://127.0.0.1:9849/',
    );
    expect(
      meshLine({
        enabled: true,
        port: 9848,
        uiUrl: 'http://127.0.0.1:9849/',
        devices: { NEEDS_REPAIR: 1, AVAILABLE: 2, OFFLINE: 0 },
      }),
    ).toBe(
      'on port 9848, 3 devices paired (2 available, 1 to pair again); My Devices at http://127.0.0.1:9849/',
    );
  });
});
