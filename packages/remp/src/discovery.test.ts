import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Announce, crc32, type DiscoveryMessage, decodeDiscovery, encodeDiscovery } from '.';

const bytes = (spaced: string) => Uint8Array.from(spaced.split(' '), (h) => Number.parseInt(h, 16));
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

// Hand-laid datagrams (REMP.md §1); their CRCs were computed with Python's zlib.crc32.
const DISCOVER_SEQ_1 = bytes('4f 42 44 32 01 01 00 12 00 00 01 00 00 00 2c 01 54 46');
const LEGACY_DISCOVER_SEQ_5 = bytes('4f 42 44 32 01 01 00 10 00 00 05 00 9a 70 44 b7');
const ANNOUNCE_SEQ_7 = bytes(
  '4f 42 44 32 01 02 00 12 1f 00 07 00 00 00 a6 45 3b 34 ' + // header, payload_len 31, seq 7, crc
    '01 08 00 11 22 33 44 55 66 77 ' + // device_id
    '02 06 66 77 2d 31 2e 32 ' + // fw_build "fw-1.2"
    '03 02 50 c3 ' + // udp_port 50000
    '06 04 c0 a8 01 17 ' + // lan_ip 192.168.1.23
    '07 01 00', // pairing_state 0
);
const ANNOUNCE: Announce = {
  deviceId: '0011223344556677',
  fwBuild: 'fw-1.2',
  udpPort: 50000,
  lanIp: '192.168.1.23',
  pairingState: 0,
};

/** zlib's own crc32, through Python (Node 20 has no zlib.crc32). */
function zlibCrc32(data: Uint8Array): number {
  const run = spawnSync('python3', ['-c', 'import sys,zlib; print(zlib.crc32(sys.stdin.buffer.read()))'], {
    input: data,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`python3 zlib failed: ${run.stderr}`);
  return Number(run.stdout.trim());
}

describe('crc32', () => {
  it('is zlib’s CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    for (const size of [0, 1, 17, 1000]) {
      const data = randomBytes(size);
      expect(crc32(data)).toBe(zlibCrc32(data));
    }
    const whole = randomBytes(64);
    expect(crc32(whole.subarray(0, 10), whole.subarray(10))).toBe(crc32(whole));
  });
});

describe('discovery vectors', () => {
  it('encodes DISCOVER, legacy DISCOVER and ANNOUNCE to the hand-laid bytes', () => {
    expect(hexOf(encodeDiscovery({ type: 'discover', seq: 1, legacy: false }))).toBe(hexOf(DISCOVER_SEQ_1));
    expect(hexOf(encodeDiscovery({ type: 'discover', seq: 5, legacy: true }))).toBe(
      hexOf(LEGACY_DISCOVER_SEQ_5),
    );
    expect(hexOf(encodeDiscovery({ type: 'announce', seq: 7, legacy: false, announce: ANNOUNCE }))).toBe(
      hexOf(ANNOUNCE_SEQ_7),
    );
  });

  it('decodes them, the legacy 16-byte header too', () => {
    expect(decodeDiscovery(DISCOVER_SEQ_1)).toEqual({
      ok: true,
      value: { type: 'discover', seq: 1, legacy: false },
    });
    expect(decodeDiscovery(LEGACY_DISCOVER_SEQ_5)).toEqual({
      ok: true,
      value: { type: 'discover', seq: 5, legacy: true },
    });
    expect(decodeDiscovery(ANNOUNCE_SEQ_7)).toEqual({
      ok: true,
      value: { type: 'announce', seq: 7, legacy: false, announce: ANNOUNCE },
    });
  });

  it('skips unknown TLVs and reads the pairing nonce', () => {
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i);
    const encoded = encodeDiscovery({
      type: 'announce',
      seq: 9,
      legacy: false,
      announce: { deviceId: 'a1b2c3d4e5f60718', pairingState: 1, pairingNonce: nonce },
    });
    // Append an unknown TLV (type 0x7f) and fix payload_len and the CRC.
    const extra = Uint8Array.of(0x7f, 3, 1, 2, 3);
    const grown = new Uint8Array(encoded.length + extra.length);
    grown.set(encoded);
    grown.set(extra, encoded.length);
    const view = new DataView(grown.buffer);
    view.setUint16(8, grown.length - 18, true);
    view.setUint32(14, 0, true);
    view.setUint32(14, crc32(grown), true);
    const decoded = decodeDiscovery(grown);
    expect(decoded).toEqual({
      ok: true,
      value: {
        type: 'announce',
        seq: 9,
        legacy: false,
        announce: { deviceId: 'a1b2c3d4e5f60718', pairingState: 1, pairingNonce: nonce },
      },
    });
  });

  it("round-trips Canopy's auth-failures TLV and rejects a short one", () => {
    const announce = { deviceId: 'a1b2c3d4e5f60718', authFailures: { ip: '192.168.1.77', count: 23 } };
    const encoded = encodeDiscovery({ type: 'announce', seq: 1, legacy: false, announce });
    expect(decodeDiscovery(encoded)).toEqual({
      ok: true,
      value: { type: 'announce', seq: 1, legacy: false, announce },
    });
    // The TLV is the last 8 bytes: shorten its length byte to 5 and drop a byte, CRC fixed.
    const short = encoded.slice(0, encoded.length - 1);
    short[short.length - 6] = 5;
    const view = new DataView(short.buffer);
    view.setUint16(8, short.length - 18, true);
    view.setUint32(14, 0, true);
    view.setUint32(14, crc32(short), true);
    const decoded = decodeDiscovery(short);
    expect(decoded.ok ? 'ok' : decoded.error.code).toBe('BAD_FIELD');
  });
});

describe('hostile discovery datagrams get typed errors', () => {
  const code = (b: Uint8Array) => {
    const result = decodeDiscovery(b);
    return result.ok ? 'ok' : result.error.code;
  };
  const mutate = (b: Uint8Array, at: number, value: number) => {
    const copy = b.slice();
    copy[at] = value;
    return copy;
  };

  it('names what is wrong', () => {
    expect(code(new Uint8Array(0))).toBe('TRUNCATED');
    expect(code(DISCOVER_SEQ_1.subarray(0, 15))).toBe('TRUNCATED');
    expect(code(mutate(DISCOVER_SEQ_1, 0, 0x58))).toBe('BAD_MAGIC');
    expect(code(mutate(DISCOVER_SEQ_1, 4, 2))).toBe('UNKNOWN_PROTO');
    expect(code(mutate(DISCOVER_SEQ_1, 7, 20))).toBe('BAD_FIELD');
    expect(code(mutate(DISCOVER_SEQ_1, 10, 2))).toBe('BAD_CRC');
    expect(code(mutate(ANNOUNCE_SEQ_7, ANNOUNCE_SEQ_7.length - 1, 1))).toBe('BAD_CRC');
    expect(code(ANNOUNCE_SEQ_7.subarray(0, ANNOUNCE_SEQ_7.length - 1))).toBe('LENGTH_OVERRUN');
    expect(code(mutate(DISCOVER_SEQ_1, 17, 0x47))).toBe('BAD_CRC');
  });

  it('checks type and TLVs only after the CRC, and reports them', () => {
    const withCrc = (b: Uint8Array) => {
      const copy = b.slice();
      const view = new DataView(copy.buffer);
      const headerLen = copy[7] as number;
      view.setUint32(headerLen - 4, 0, true);
      view.setUint32(headerLen - 4, crc32(copy.subarray(0, 18 + view.getUint16(8, true))), true);
      return copy;
    };
    expect(code(withCrc(mutate(DISCOVER_SEQ_1, 5, 9)))).toBe('UNKNOWN_TYPE');
    expect(code(withCrc(mutate(ANNOUNCE_SEQ_7, 19, 7)))).toBe('BAD_FIELD'); // device_id of 7 bytes
    expect(code(withCrc(mutate(ANNOUNCE_SEQ_7, 19, 200)))).toBe('LENGTH_OVERRUN'); // a TLV past the payload
  });
});

const announceArb: fc.Arbitrary<Announce> = fc.record(
  {
    deviceId: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => hexOf(b).replace(/ /g, '')),
    fwBuild: fc.string({ unit: fc.constantFrom('a', '7', '-', 'é', '€', '\uFEFF', '😀'), maxLength: 60 }),
    udpPort: fc.integer({ min: 0, max: 0xffff }),
    capabilities: fc.integer({ min: 0, max: 0xffffffff }),
    protoVer: fc.integer({ min: 0, max: 0xffff }),
    lanIp: fc.ipV4(),
    pairingState: fc.integer({ min: 0, max: 1 }),
    pairingNonce: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  },
  { requiredKeys: ['deviceId'] },
);
const messageArb: fc.Arbitrary<DiscoveryMessage> = fc.oneof(
  fc.record({
    type: fc.constant('discover' as const),
    seq: fc.integer({ min: 0, max: 0xffff }),
    legacy: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('announce' as const),
    seq: fc.integer({ min: 0, max: 0xffff }),
    legacy: fc.boolean(),
    announce: announceArb,
  }),
);

describe('discovery properties (fast-check)', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(messageArb, (message) => {
        expect(decodeDiscovery(encodeDiscovery(message))).toEqual({ ok: true, value: message });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random or mutated bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        decodeDiscovery(b);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (message, at, value) => {
        const b = encodeDiscovery(message);
        b[at % b.length] = value;
        const result = decodeDiscovery(b);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });
});
