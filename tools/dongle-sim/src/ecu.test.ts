import { describe, expect, it } from 'vitest';
import { type BusFrame, ecuAnswer, pidData, SUPPORTED_PIDS, supportedMask } from './ecu';
import { type EngineReadings, engineAt } from './engine';

const READINGS: EngineReadings = {
  coolantC: 88.6,
  rpm: 2345.5,
  speedKmh: 61.2,
  intakeC: 35,
  throttlePct: 40,
  runTimeS: 1234,
  fuelPct: 50,
  ambientC: 21,
};

const request = (id: number, ...bytes: number[]): BusFrame => ({
  id,
  extended: false,
  data: Uint8Array.from([...bytes, ...new Array(8 - bytes.length).fill(0x55)]),
});
const hex = (data: Uint8Array | undefined) =>
  data === undefined ? undefined : Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');

describe('ecuAnswer', () => {
  it.each([
    ['05', '03 41 05 81 aa aa aa aa'], // 88.6 °C + 40 = 128.6 → 129
    ['0c', '04 41 0c 24 a6 aa aa aa'], // 2345.5 rpm × 4 = 9382 = 0x24a6
    ['0d', '03 41 0d 3d aa aa aa aa'], // 61 km/h
    ['0f', '03 41 0f 4b aa aa aa aa'], // 35 + 40 = 75
    ['11', '03 41 11 66 aa aa aa aa'], // 40 % × 255 / 100 = 102
    ['1f', '04 41 1f 04 d2 aa aa aa'], // 1234 s
    ['2f', '03 41 2f 80 aa aa aa aa'], // 50 % → 127.5 → 128
    ['46', '03 41 46 3d aa aa aa aa'], // 21 + 40 = 61
  ])('answers PID 0x%s from 0x7E8 with its bytes', (pidHex, bytes) => {
    const pid = Number.parseInt(pidHex, 16);
    expect(hex(ecuAnswer(request(0x7df, 0x02, 0x01, pid), READINGS))).toBe(bytes);
    expect(hex(ecuAnswer(request(0x7e0, 0x02, 0x01, pid), READINGS))).toBe(bytes);
  });

  it('encodes RPM as (256 A + B) / 4', () => {
    const data = ecuAnswer(request(0x7df, 0x02, 0x01, 0x0c), READINGS) as Uint8Array;
    expect((256 * (data[3] as number) + (data[4] as number)) / 4).toBe(2345.5);
  });

  it('reports exactly the PIDs it answers in PIDs 0x00, 0x20 and 0x40', () => {
    expect(hex(ecuAnswer(request(0x7df, 0x02, 0x01, 0x00), READINGS))).toBe('06 41 00 08 1a 80 03 aa');
    expect(hex(ecuAnswer(request(0x7df, 0x02, 0x01, 0x20), READINGS))).toBe('06 41 20 00 02 00 01 aa');
    expect(hex(ecuAnswer(request(0x7df, 0x02, 0x01, 0x40), READINGS))).toBe('06 41 40 04 00 00 00 aa');
    for (let pid = 1; pid <= 0x60; pid++) {
      const base = Math.floor((pid - 1) / 32) * 32;
      const advertised = ((supportedMask(base) >>> (32 - (pid - base))) & 1) === 1;
      expect(advertised, `PID 0x${pid.toString(16)}`).toBe(pidData(pid, READINGS) !== undefined);
      expect(advertised).toBe(SUPPORTED_PIDS.includes(pid));
    }
  });

  it('answers an unsupported PID with 7F 01 12 on 0x7E0 and stays silent on 0x7DF', () => {
    expect(hex(ecuAnswer(request(0x7e0, 0x02, 0x01, 0x42), READINGS))).toBe('03 7f 01 12 aa aa aa aa');
    expect(ecuAnswer(request(0x7df, 0x02, 0x01, 0x42), READINGS)).toBeUndefined();
  });

  it('answers another service with 7F sid 11 on 0x7E0 and stays silent on 0x7DF', () => {
    expect(hex(ecuAnswer(request(0x7e0, 0x02, 0x09, 0x02), READINGS))).toBe('03 7f 09 11 aa aa aa aa');
    expect(hex(ecuAnswer(request(0x7e0, 0x01, 0x03), READINGS))).toBe('03 7f 03 11 aa aa aa aa');
    expect(ecuAnswer(request(0x7df, 0x01, 0x03), READINGS)).toBeUndefined();
  });

  it('answers a service 01 request without a PID with 7F 01 13 on 0x7E0', () => {
    expect(hex(ecuAnswer(request(0x7e0, 0x01, 0x01), READINGS))).toBe('03 7f 01 13 aa aa aa aa');
  });

  it('ignores other ids, extended ids, multi-frame PCIs and lengths past the data', () => {
    expect(ecuAnswer(request(0x7e1, 0x02, 0x01, 0x0c), READINGS)).toBeUndefined();
    expect(ecuAnswer({ ...request(0x7df, 0x02, 0x01, 0x0c), extended: true }, READINGS)).toBeUndefined();
    expect(ecuAnswer(request(0x7e0, 0x10, 0x01, 0x0c), READINGS)).toBeUndefined();
    expect(ecuAnswer(request(0x7e0, 0x00, 0x01, 0x0c), READINGS)).toBeUndefined();
    expect(
      ecuAnswer({ id: 0x7e0, extended: false, data: Uint8Array.of(0x05, 0x01, 0x0c) }, READINGS),
    ).toBeUndefined();
    expect(ecuAnswer({ id: 0x7e0, extended: false, data: new Uint8Array(0) }, READINGS)).toBeUndefined();
  });
});

describe('engineAt', () => {
  it('idles at the start, then drives, and values move smoothly', () => {
    expect(engineAt(0)).toMatchObject({ speedKmh: 0, rpm: 800, runTimeS: 0, ambientC: 21, coolantC: 21 });
    expect(engineAt(45_000).speedKmh).toBeCloseTo(90);
    let previous = engineAt(0);
    for (let ms = 100; ms <= 600_000; ms += 100) {
      const r = engineAt(ms);
      expect(Math.abs(r.rpm - previous.rpm)).toBeLessThan(20);
      expect(Math.abs(r.speedKmh - previous.speedKmh)).toBeLessThan(1);
      expect(r.coolantC).toBeGreaterThanOrEqual(previous.coolantC);
      expect(r.coolantC).toBeLessThan(90);
      expect(r.fuelPct).toBeLessThanOrEqual(previous.fuelPct);
      expect(r.throttlePct).toBeGreaterThanOrEqual(0);
      expect(r.throttlePct).toBeLessThanOrEqual(100);
      previous = r;
    }
  });

  it('is a function of time only', () => {
    expect(engineAt(123_456)).toEqual(engineAt(123_456));
  });
});
