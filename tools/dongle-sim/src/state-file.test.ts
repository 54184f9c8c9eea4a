import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAN_CONFIG } from './can-config';
import { readState, StateFileError, writeState } from './state-file';

const made: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'dongle-sim-state-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('state file', () => {
  it('keeps secrets, tokens and CAN configs across a write and a read, in a 0600 file', () => {
    const path = join(dir(), 'state.json');
    expect(readState(path).size).toBe(0);
    const kept = new Map([
      [
        '0011223344556677',
        {
          secret: new Uint8Array(32).fill(1),
          token: new Uint8Array(32).fill(2),
          canConfig: DEFAULT_CAN_CONFIG,
        },
      ],
      [
        '8899aabbccddeeff',
        { secret: new Uint8Array(32).fill(3), token: undefined, canConfig: DEFAULT_CAN_CONFIG },
      ],
    ]);
    writeState(path, kept);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readState(path)).toEqual(kept);
  });

  it('refuses a file that is not a state file', () => {
    const path = join(dir(), 'state.json');
    writeFileSync(path, '{"version": 2}');
    expect(() => readState(path)).toThrow(StateFileError);
    writeFileSync(path, 'not json');
    expect(() => readState(path)).toThrow(/is not JSON/);
  });

  it('drops a CAN config that would not validate, keeping the rest', () => {
    const path = join(dir(), 'state.json');
    writeState(
      path,
      new Map([
        [
          '0011223344556677',
          { secret: new Uint8Array(32), canConfig: { ...DEFAULT_CAN_CONFIG, bitrate: 7 } },
        ],
      ]),
    );
    expect(JSON.parse(readFileSync(path, 'utf8')).dongles['0011223344556677'].can_config.bitrate).toBe(7);
    expect(readState(path).get('0011223344556677')).toEqual({ secret: new Uint8Array(32), token: undefined });
  });
});
