import { MeshErrorCode } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { FALLBACK_SENTENCE, friendlyMessage, meshError, statusOf } from './friendly';

describe('friendly mesh errors', () => {
  it('speaks of devices, as spec 001 phase 8 lists', () => {
    expect(friendlyMessage('MESH_TOKEN_EXPIRED')).toBe('Device needs re-pairing');
    expect(friendlyMessage('MESH_DEVICE_OFFLINE')).toBe('Device is offline');
    expect(friendlyMessage('MESH_PERMISSION_DENIED')).toBe("Device can't do that");
    expect(friendlyMessage('MESH_TOKEN_UNKNOWN')).toBe('Device not recognized');
    expect(friendlyMessage('MESH_TOKEN_REVOKED')).toBe('Device access removed');
  });

  it('says how many PIN tries are left', () => {
    expect(friendlyMessage('MESH_PAIRING_PIN_INVALID', { tries_left: 3 })).toBe(
      "That PIN doesn't match. 3 tries left.",
    );
    expect(friendlyMessage('MESH_PAIRING_PIN_INVALID', { tries_left: 1 })).toBe(
      "That PIN doesn't match. 1 try left.",
    );
  });

  it('never shows technical words to a person', () => {
    for (const code of MeshErrorCode.options) {
      const text = friendlyMessage(code);
      expect(text).not.toBe(FALLBACK_SENTENCE);
      expect(text).not.toMatch(/token|bearer|permission|401|403|\d+\.\d+\.\d+\.\d+|:\*/i);
    }
  });

  it('builds {code, message, details} with a status for each mesh code', () => {
    expect(meshError('MESH_TOKEN_REVOKED')).toEqual({
      code: 'MESH_TOKEN_REVOKED',
      message: 'Device access removed',
      details: {},
    });
    expect(statusOf('MESH_TOKEN_REVOKED')).toBe(401);
    expect(statusOf('MESH_PERMISSION_DENIED')).toBe(403);
    expect(statusOf('PAYLOAD_TOO_LARGE')).toBe(413);
  });
});
