import { describe, expect, it } from 'vitest';
import { hexBytes, obdHint, supported } from './obd';

// Answers as the simulator's ECU sends them: [len, 0x41, pid, A, B…] padded to 8 bytes with 0xAA.
describe('obdHint on answers from 0x7E8–0x7EF', () => {
  it.each([
    ['04410C1AF8AAAAAA', 'Engine speed 1,726 rpm'],
    ['04410C0C80AAAAAA', 'Engine speed 800 rpm'],
    ['03410D5AAAAAAAAA', 'Vehicle speed 90 km/h'],
    ['03410D00AAAAAAAA', 'Vehicle speed 0 km/h'],
    ['03410582AAAAAAAA', 'Coolant 90 °C'],
    ['03410F00AAAAAAAA', 'Intake air -40 °C'],
    ['034111FFAAAAAAAA', 'Throttle 100 %'],
    ['03411180AAAAAAAA', 'Throttle 50.2 %'],
    ['04411F012CAAAAAA', 'Run time 300 s'],
    ['03412FB8AAAAAAAA', 'Fuel level 72.2 %'],
    ['0341463DAAAAAAAA', 'Ambient air 21 °C'],
    ['064100081A8003AA', 'Supported PIDs 01–20: 7 supported'],
  ])('%s reads "%s"', (data, hint) => {
    expect(obdHint(0x7e8, data)).toBe(hint);
  });

  it('reads the answers of any ECU id 0x7E8–0x7EF, and no other', () => {
    expect(obdHint(0x7ef, '03410D5AAAAAAAAA')).toBe('Vehicle speed 90 km/h');
    expect(obdHint(0x7f0, '03410D5AAAAAAAAA')).toBeNull();
    expect(obdHint(0x7e7, '03410D5AAAAAAAAA')).toBeNull();
  });

  it('says why an ECU refused a request', () => {
    expect(obdHint(0x7e8, '037F0112AAAAAAAA')).toBe('Refused: PID not supported');
    expect(obdHint(0x7e8, '037F2211AAAAAAAA')).toBe('Refused: service not supported');
    expect(obdHint(0x7e8, '037F0131AAAAAAAA')).toBe('Refused: code 31');
  });

  it('has no hint for another service, an unknown PID, or a value cut short', () => {
    expect(obdHint(0x7e8, '0562F190AAAAAAAA')).toBeNull();
    expect(obdHint(0x7e8, '03419912AAAAAAAA')).toBeNull();
    expect(obdHint(0x7e8, '03410C1AAAAAAAAA')).toBeNull(); // RPM needs two bytes, the length says one
    expect(obdHint(0x7e8, '04410C1A')).toBeNull(); // the length says more than the frame holds
    expect(obdHint(0x7e8, '10144100081A8003')).toBeNull(); // an ISO-TP first frame, not a single one
  });
});

describe('obdHint on requests', () => {
  it('names what a request on 0x7DF or 0x7E0–0x7E7 asks for', () => {
    expect(obdHint(0x7df, '02010C0000000000')).toBe('Asks for engine speed');
    expect(obdHint(0x7df, '02010D')).toBe('Asks for vehicle speed');
    expect(obdHint(0x7e0, '0201055555555555')).toBe('Asks for coolant');
    expect(obdHint(0x7df, '0201000000000000')).toBe('Asks for the supported PIDs');
  });

  it('has no hint for another service or a request without a PID', () => {
    expect(obdHint(0x7df, '0209020000000000')).toBeNull();
    expect(obdHint(0x7df, '0101000000000000')).toBeNull();
  });
});

describe('obdHint on other frames', () => {
  it('has no hint for other ids, 29-bit ids, or payloads that are not hex bytes', () => {
    expect(obdHint(0x100, '04410C1AF8AAAAAA')).toBeNull();
    expect(obdHint(0x7e8, '04410C1AF8AAAAAA', true)).toBeNull();
    expect(obdHint(0x7e8, '04410C1AF8AAAAA')).toBeNull();
    expect(obdHint(0x7e8, '')).toBeNull();
    expect(obdHint(0x7e8, 'ZZ')).toBeNull();
  });
});

describe('supported', () => {
  it('lists the PIDs of a mask, bit 31 first', () => {
    expect(supported(0x00, [0x08, 0x1a, 0x80, 0x03])).toEqual([0x05, 0x0c, 0x0d, 0x0f, 0x11, 0x1f, 0x20]);
    expect(supported(0x20, [0x00, 0x02, 0x00, 0x01])).toEqual([0x2f, 0x40]);
  });
});

describe('hexBytes', () => {
  it('reads whole bytes of hex, either case', () => {
    expect(hexBytes('0aFF')).toEqual([10, 255]);
    expect(hexBytes('')).toEqual([]);
    expect(hexBytes('ABC')).toBeNull();
    expect(hexBytes('0G')).toBeNull();
  });
});
