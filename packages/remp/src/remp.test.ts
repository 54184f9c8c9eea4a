import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CAN_CONFIG_ACTIONS,
  CAN_CONFIG_STATUSES,
  CAN_MODES,
  type CanConfigMessage,
  type CanFrame,
  CLI_ALLOWLIST,
  CLI_STATUSES,
  type CliMessage,
  datagramKind,
  decodeRemp,
  encodeRemp,
  PAIRING_STATUSES,
  type PairingMessage,
  type RempBody,
  type RempHeader,
  type RempMessage,
} from '.';

const bytes = (spaced: string) =>
  Uint8Array.from(spaced.trim().split(/\s+/), (h) => {
    if (!/^[0-9a-f]{2}$/.test(h)) throw new Error(`not a hex byte: ${h}`);
    return Number.parseInt(h, 16);
  });
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

// ---- hand-laid datagrams (REMP.md §2: big-endian, a 31-byte header, token[token_len], then the payload) ----

/** The dongle's 32-byte token: c0 c1 … df. */
const TOKEN_HEX =
  'c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df ';
const TOKEN = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i);
/** A pairing nonce: a0 a1 … af. */
const NONCE_HEX = 'a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af ';
const NONCE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const CORR = '0f8fad5b-d9cb-469f-a165-70867728950e';
const CORR_HEX = '0f 8f ad 5b d9 cb 46 9f a1 65 70 86 77 28 95 0e ';
const CORR2 = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const CORR2_HEX = '6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8 ';
const DEVICE = '0011223344556677';

const CAN_STD = bytes(
  '52 45 4d 50 ' + // magic "REMP"
    '01 ' + // version 1
    '00 ' + // type 0: CAN frame
    '00 ' + // flags
    '00 ' + // reserved
    '20 ' + // token_len 32
    '01 02 ' + // fw_build 0x0102
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 07 ' + // seq 7
    '01 02 03 04 05 06 07 08 ' + // timestamp_us 0x0102030405060708
    TOKEN_HEX +
    '00 00 07 df ' + // can_id 0x7DF, standard
    '00 ' + // frame flags
    '08 ' + // dlc 8
    '00 00 ' + // reserved
    '02 01 0c 00 00 00 00 00', // data: OBD2 mode 01 PID 0C
);
const CAN_STD_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0x0102,
  deviceId: DEVICE,
  seq: 7,
  timestampUs: 0x0102030405060708n,
  token: TOKEN,
  type: 'can_frame',
  frame: { id: 0x7df, extended: false, flags: 0, data: Uint8Array.of(2, 1, 0x0c, 0, 0, 0, 0, 0) },
};

const CAN_EXT = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '00 ' + // type 0: CAN frame
    '00 00 ' + // flags, reserved
    '20 ' + // token_len 32
    '2a 10 ' + // fw_build 0x2a10
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 01 00 00 ' + // seq 65536
    '00 00 00 00 07 5b cd 15 ' + // timestamp_us 123456789
    TOKEN_HEX +
    '98 da f1 10 ' + // can_id: bit 31 (extended) | 0x18DAF110
    '01 ' + // frame flags: simulated
    '03 ' + // dlc 3
    '00 00 ' + // reserved
    '41 0c 1a', // data
);
const CAN_EXT_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0x2a10,
  deviceId: DEVICE,
  seq: 65536,
  timestampUs: 123456789n,
  token: TOKEN,
  type: 'can_frame',
  frame: { id: 0x18daf110, extended: true, flags: 1, data: Uint8Array.of(0x41, 0x0c, 0x1a) },
};

const CAN_DLC0 = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '00 ' + // type 0: CAN frame
    '00 00 ' + // flags, reserved
    '00 ' + // token_len 0
    '00 00 ' + // fw_build 0
    'ff ee dd cc bb aa 99 88 ' + // device_id
    '00 00 00 00 ' + // seq 0
    '00 00 00 00 00 00 00 00 ' + // timestamp_us 0
    '9f ff ff ff ' + // can_id: extended | 0x1FFFFFFF (the largest 29-bit id)
    '03 ' + // frame flags: simulated | loopback
    '00 ' + // dlc 0
    '00 00', // reserved; no data
);
const CAN_DLC0_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0,
  deviceId: 'ffeeddccbbaa9988',
  seq: 0,
  timestampUs: 0n,
  token: new Uint8Array(0),
  type: 'can_frame',
  frame: { id: 0x1fffffff, extended: true, flags: 3, data: new Uint8Array(0) },
};

const CAN_CONFIG_SET = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '02 ' + // type 2: CAN config
    '00 00 ' + // flags, reserved
    '20 ' + // token_len 32
    '00 00 ' + // fw_build 0 (the agent)
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 08 ' + // seq 8
    '00 06 0a 24 18 1e 40 00 ' + // timestamp_us 1_700_000_000_000_000
    TOKEN_HEX +
    '01 ' + // action 1: set
    '00 ' + // status ok
    '00 07 a1 20 ' + // bitrate 500000
    '03 6b ' + // sample_point_permille 875
    '00 04 ' + // prescaler 4
    '01 ' + // sjw 1
    '0d ' + // tseg1 13
    '02 ' + // tseg2 2
    '00 ' + // mode 0: normal
    '02 ' + // flags: auto_retx
    '00', // reserved
);
const CAN_CONFIG_SET_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0,
  deviceId: DEVICE,
  seq: 8,
  timestampUs: 1_700_000_000_000_000n,
  token: TOKEN,
  type: 'can_config',
  config: {
    action: 'set',
    status: 'ok',
    config: {
      bitrate: 500000,
      samplePointPermille: 875,
      prescaler: 4,
      sjw: 1,
      tseg1: 13,
      tseg2: 2,
      mode: 'normal',
      flags: { useRaw: false, autoRetx: true, txPause: false, protocolExc: false },
    },
  },
};

const CAN_CONFIG_RESPONSE = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '02 ' + // type 2: CAN config
    '00 00 ' + // flags, reserved
    '20 ' + // token_len 32
    '2a 10 ' + // fw_build 0x2a10
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 08 ' + // seq 8 (echoed)
    '00 06 0a 24 18 1e 40 00 ' + // timestamp_us
    TOKEN_HEX +
    '02 ' + // action 2: response
    '02 ' + // status 2: apply_failed
    '00 03 d0 90 ' + // bitrate 250000
    '03 20 ' + // sample_point_permille 800
    '00 08 ' + // prescaler 8
    '02 ' + // sjw 2
    '0f ' + // tseg1 15
    '04 ' + // tseg2 4
    '01 ' + // mode 1: listen_only
    '0d ' + // flags: use_raw | tx_pause | protocol_exc
    '00', // reserved
);
const CAN_CONFIG_RESPONSE_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0x2a10,
  deviceId: DEVICE,
  seq: 8,
  timestampUs: 1_700_000_000_000_000n,
  token: TOKEN,
  type: 'can_config',
  config: {
    action: 'response',
    status: 'apply_failed',
    config: {
      bitrate: 250000,
      samplePointPermille: 800,
      prescaler: 8,
      sjw: 2,
      tseg1: 15,
      tseg2: 4,
      mode: 'listen_only',
      flags: { useRaw: true, autoRetx: false, txPause: true, protocolExc: true },
    },
  },
};

const PAIRING_START = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '03 ' + // type 3: pairing
    '00 00 ' + // flags, reserved
    '00 ' + // token_len 0 (a pairing request)
    '00 00 ' + // fw_build 0
    '00 00 00 00 00 00 00 00 ' + // device_id unknown
    '00 00 00 01 ' + // seq 1
    '00 06 0a 24 18 1e 40 00 ' + // timestamp_us
    '01 ' + // action 1: PAIRING_MODE_START
    '00 ' + // status
    '00 78 ' + // seconds 120
    CORR_HEX, // corr_id
);
const PAIRING_START_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0,
  deviceId: '0000000000000000',
  seq: 1,
  timestampUs: 1_700_000_000_000_000n,
  token: new Uint8Array(0),
  type: 'pairing',
  pairing: { action: 'start', corrId: CORR, seconds: 120 },
};

const PAIRING_SUBMIT = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '03 ' + // type 3: pairing
    '00 00 ' + // flags, reserved
    '00 ' + // token_len 0 (a pairing request)
    '00 00 ' + // fw_build 0
    '00 11 22 33 44 55 66 77 ' + // device_id (from the ANNOUNCE)
    '00 00 00 02 ' + // seq 2
    '00 06 0a 24 18 1e 40 00 ' + // timestamp_us
    '02 ' + // action 2: PAIRING_SUBMIT
    '00 ' + // status
    '00 00 ' + // seconds
    CORR_HEX + // corr_id
    '31 32 33 34 35 36 ' + // pin "123456"
    NONCE_HEX + // pairing_nonce
    '20 ' + // token_len 32
    TOKEN_HEX,
);
const PAIRING_SUBMIT_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0,
  deviceId: DEVICE,
  seq: 2,
  timestampUs: 1_700_000_000_000_000n,
  token: new Uint8Array(0),
  type: 'pairing',
  pairing: { action: 'submit', corrId: CORR, seconds: 0, pin: '123456', pairingNonce: NONCE, token: TOKEN },
};

const PAIRING_ACK_OK = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '03 ' + // type 3: pairing
    '00 00 ' + // flags, reserved
    '00 ' + // token_len 0
    '2a 10 ' + // fw_build 0x2a10
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 01 ' + // seq 1
    '00 00 00 00 07 5b cd 15 ' + // timestamp_us 123456789
    '03 ' + // action 3: ACK
    '00 ' + // status 0: ok
    '00 b4 ' + // seconds 180 left
    CORR_HEX + // corr_id
    NONCE_HEX, // pairing_nonce, after a successful START
);
const PAIRING_ACK_OK_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0x2a10,
  deviceId: DEVICE,
  seq: 1,
  timestampUs: 123456789n,
  token: new Uint8Array(0),
  type: 'pairing',
  pairing: { action: 'ack', corrId: CORR, status: 'ok', seconds: 180, pairingNonce: NONCE },
};

const PAIRING_ACK_INVALID_PIN = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '03 ' + // type 3: pairing
    '00 00 ' + // flags, reserved
    '00 ' + // token_len 0
    '2a 10 ' + // fw_build 0x2a10
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 02 ' + // seq 2
    '00 00 00 00 07 5b cd 16 ' + // timestamp_us 123456790
    '03 ' + // action 3: ACK
    '01 ' + // status 1: invalid_pin
    '00 1e ' + // seconds 30 left
    CORR_HEX, // corr_id; no nonce
);
const PAIRING_ACK_INVALID_PIN_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0x2a10,
  deviceId: DEVICE,
  seq: 2,
  timestampUs: 123456790n,
  token: new Uint8Array(0),
  type: 'pairing',
  pairing: { action: 'ack', corrId: CORR, status: 'invalid_pin', seconds: 30 },
};

const CMD_REQ = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '04 ' + // type 4: CLI
    '00 00 ' + // flags, reserved
    '20 ' + // token_len 32
    '00 00 ' + // fw_build 0
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 01 00 ' + // seq 256
    '00 06 0a 24 18 1e 40 00 ' + // timestamp_us
    TOKEN_HEX +
    '01 ' + // action 1: CMD_REQ
    '00 ' + // flags: not allow_dangerous
    '00 00 ' + // u16 = 0
    CORR2_HEX + // corr_id
    '00 0d ' + // cmd_len 13
    '72 65 6d 6f 74 65 20 73 74 61 74 75 73', // "remote status"
);
const CMD_REQ_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0,
  deviceId: DEVICE,
  seq: 256,
  timestampUs: 1_700_000_000_000_000n,
  token: TOKEN,
  type: 'cli',
  cli: { action: 'request', corrId: CORR2, allowDangerous: false, command: 'remote status' },
};

const CMD_RSP_ALL_FLAGS = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '04 ' + // type 4: CLI
    '00 00 ' + // flags, reserved
    '20 ' + // token_len 32
    '2a 10 ' + // fw_build 0x2a10
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 01 00 ' + // seq 256
    '00 06 0a 24 18 1e 40 01 ' + // timestamp_us 1_700_000_000_000_001
    TOKEN_HEX +
    '02 ' + // action 2: CMD_RSP
    '02 ' + // status 2: error
    '07 ' + // flags: truncated | more | stderr
    '03 ' + // reserved byte: chunk 3
    CORR2_HEX + // corr_id
    '00 01 ' + // exit_code 1
    '00 05 ' + // out_len 5
    '6f 6f 70 73 0a', // "oops\n"
);
const CMD_RSP_ALL_FLAGS_VALUE: RempMessage = {
  flags: 0,
  fwBuild: 0x2a10,
  deviceId: DEVICE,
  seq: 256,
  timestampUs: 1_700_000_000_000_001n,
  token: TOKEN,
  type: 'cli',
  cli: {
    action: 'response',
    corrId: CORR2,
    status: 'error',
    truncated: true,
    more: true,
    stderr: true,
    chunk: 3,
    exitCode: 1,
    output: ascii('oops\n'),
  },
};

const CMD_RSP_DENIED = bytes(
  '52 45 4d 50 01 ' + // magic, version
    '04 ' + // type 4: CLI
    '01 ' + // flags: AUTH_REJECTED
    '00 ' + // reserved
    '00 ' + // token_len 0
    'ff ff ' + // fw_build 0xffff
    '00 11 22 33 44 55 66 77 ' + // device_id
    'ff ff ff ff ' + // seq 2^32 - 1
    'ff ff ff ff ff ff ff ff ' + // timestamp_us 2^64 - 1
    '02 ' + // action 2: CMD_RSP
    '01 ' + // status 1: denied
    '00 ' + // flags: none (the last chunk, stdout, whole)
    '00 ' + // chunk 0
    CORR2_HEX + // corr_id
    'ff ff ' + // exit_code 65535
    '00 00', // out_len 0
);
const CMD_RSP_DENIED_VALUE: RempMessage = {
  flags: 1,
  fwBuild: 0xffff,
  deviceId: DEVICE,
  seq: 0xffffffff,
  timestampUs: 0xffffffffffffffffn,
  token: new Uint8Array(0),
  type: 'cli',
  cli: {
    action: 'response',
    corrId: CORR2,
    status: 'denied',
    truncated: false,
    more: false,
    stderr: false,
    chunk: 0,
    exitCode: 65535,
    output: new Uint8Array(0),
  },
};

const CMD_RSP_TRUNCATED_ONLY = bytes(
  '52 45 4d 50 01 04 00 00 ' + // magic, version, type 4, flags, reserved
    '00 00 00 ' + // token_len 0, fw_build 0
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 09 ' + // seq 9
    '00 00 00 00 00 00 00 2a ' + // timestamp_us 42
    '02 ' + // action 2: CMD_RSP
    '03 ' + // status 3: timeout
    '01 ' + // flags: truncated only (the last chunk, stdout)
    'ff ' + // chunk 255
    CORR2_HEX + // corr_id
    '00 7c ' + // exit_code 124
    '00 01 ' + // out_len 1
    '78', // "x"
);
const CMD_RSP_STDERR_MORE = bytes(
  '52 45 4d 50 01 04 00 00 ' + // magic, version, type 4, flags, reserved
    '00 00 00 ' + // token_len 0, fw_build 0
    '00 11 22 33 44 55 66 77 ' + // device_id
    '00 00 00 0a ' + // seq 10
    '00 00 00 00 00 00 00 2b ' + // timestamp_us 43
    '02 ' + // action 2: CMD_RSP
    '00 ' + // status 0: ok
    '06 ' + // flags: more | stderr
    '01 ' + // chunk 1
    CORR2_HEX + // corr_id
    '00 00 ' + // exit_code 0
    '00 02 ' + // out_len 2
    'c3 a9', // "é"
);
const smallRsp = (
  seq: number,
  timestampUs: bigint,
  cli: Omit<Extract<CliMessage, { action: 'response' }>, 'action' | 'corrId'>,
): RempMessage => ({
  flags: 0,
  fwBuild: 0,
  deviceId: DEVICE,
  seq,
  timestampUs,
  token: new Uint8Array(0),
  type: 'cli',
  cli: { action: 'response', corrId: CORR2, ...cli },
});
const CMD_RSP_TRUNCATED_ONLY_VALUE = smallRsp(9, 42n, {
  status: 'timeout',
  truncated: true,
  more: false,
  stderr: false,
  chunk: 255,
  exitCode: 124,
  output: ascii('x'),
});
const CMD_RSP_STDERR_MORE_VALUE = smallRsp(10, 43n, {
  status: 'ok',
  truncated: false,
  more: true,
  stderr: true,
  chunk: 1,
  exitCode: 0,
  output: Uint8Array.of(0xc3, 0xa9),
});

const VECTORS: Array<[string, Uint8Array, RempMessage, number]> = [
  // name, bytes, value, length = 31 + token_len + payload (counted by hand)
  ['CAN frame, standard 0x7DF, 8 bytes', CAN_STD, CAN_STD_VALUE, 31 + 32 + 16],
  ['CAN frame, extended 0x18DAF110', CAN_EXT, CAN_EXT_VALUE, 31 + 32 + 11],
  ['CAN frame, extended 0x1FFFFFFF, dlc 0', CAN_DLC0, CAN_DLC0_VALUE, 31 + 0 + 8],
  ['CAN config set', CAN_CONFIG_SET, CAN_CONFIG_SET_VALUE, 31 + 32 + 16],
  ['CAN config response', CAN_CONFIG_RESPONSE, CAN_CONFIG_RESPONSE_VALUE, 31 + 32 + 16],
  ['PAIRING_MODE_START', PAIRING_START, PAIRING_START_VALUE, 31 + 0 + 20],
  ['PAIRING_SUBMIT', PAIRING_SUBMIT, PAIRING_SUBMIT_VALUE, 31 + 0 + 20 + 6 + 16 + 1 + 32],
  ['PAIRING ACK ok with nonce', PAIRING_ACK_OK, PAIRING_ACK_OK_VALUE, 31 + 0 + 36],
  ['PAIRING ACK invalid_pin', PAIRING_ACK_INVALID_PIN, PAIRING_ACK_INVALID_PIN_VALUE, 31 + 0 + 20],
  ['CMD_REQ remote status', CMD_REQ, CMD_REQ_VALUE, 31 + 32 + 22 + 13],
  ['CMD_RSP truncated|more|stderr, chunk 3', CMD_RSP_ALL_FLAGS, CMD_RSP_ALL_FLAGS_VALUE, 31 + 32 + 24 + 5],
  ['CMD_RSP denied, AUTH_REJECTED, max header', CMD_RSP_DENIED, CMD_RSP_DENIED_VALUE, 31 + 24],
  ['CMD_RSP truncated only, chunk 255', CMD_RSP_TRUNCATED_ONLY, CMD_RSP_TRUNCATED_ONLY_VALUE, 31 + 25],
  ['CMD_RSP more|stderr, chunk 1', CMD_RSP_STDERR_MORE, CMD_RSP_STDERR_MORE_VALUE, 31 + 26],
];

describe('REMP v1 vectors', () => {
  it.each(VECTORS)('%s: hand-laid length', (_name, datagram, _value, length) => {
    expect(datagram.length).toBe(length);
  });

  it.each(VECTORS)('%s: encodes to the hand-laid bytes', (_name, datagram, value) => {
    expect(hexOf(encodeRemp(value))).toBe(hexOf(datagram));
  });

  it.each(VECTORS)('%s: decodes from the hand-laid bytes', (_name, datagram, value) => {
    expect(decodeRemp(datagram)).toEqual({ ok: true, value });
  });

  it('decodes a datagram that sits at an offset in a larger buffer (a Buffer too)', () => {
    for (const [, datagram, value] of VECTORS) {
      const big = new Uint8Array(datagram.length + 11);
      big.set(datagram, 7);
      expect(decodeRemp(big.subarray(7, 7 + datagram.length))).toEqual({ ok: true, value });
      expect(decodeRemp(Buffer.from(datagram))).toEqual({ ok: true, value });
    }
  });

  it('gives copies: changing the datagram afterwards does not change what was decoded', () => {
    for (const datagram of [Buffer.from(CAN_STD), CAN_STD.slice()]) {
      const decoded = decodeRemp(datagram);
      datagram.fill(0);
      expect(decoded).toEqual({ ok: true, value: CAN_STD_VALUE });
    }
    const submit = Buffer.from(PAIRING_SUBMIT);
    const decodedSubmit = decodeRemp(submit);
    submit.fill(0);
    expect(decodedSubmit).toEqual({ ok: true, value: PAIRING_SUBMIT_VALUE });
    const rsp = Buffer.from(CMD_RSP_ALL_FLAGS);
    const decodedRsp = decodeRemp(rsp);
    rsp.fill(0);
    expect(decodedRsp).toEqual({ ok: true, value: CMD_RSP_ALL_FLAGS_VALUE });
  });

  it('ignores what the format leaves over: reserved bytes, unknown flag bits, bytes after the payload', () => {
    const withReserved = CAN_STD.slice();
    withReserved[7] = 0x55; // header reserved
    withReserved[31 + 32 + 6] = 0xaa; // CAN reserved
    withReserved[31 + 32 + 7] = 0xbb;
    expect(decodeRemp(withReserved)).toEqual({ ok: true, value: CAN_STD_VALUE });
    const trailing = new Uint8Array(PAIRING_START.length + 3);
    trailing.set(PAIRING_START);
    expect(decodeRemp(trailing)).toEqual({ ok: true, value: PAIRING_START_VALUE });
    const cliFlags = CMD_RSP_DENIED.slice();
    cliFlags[31 + 2] = 0xf8; // CLI response flags: only unknown bits
    expect(decodeRemp(cliFlags)).toEqual({ ok: true, value: CMD_RSP_DENIED_VALUE });
  });
});

// ---- hostile datagrams ----

type Failure = { code: string; details?: Record<string, number | string> };
const failure = (b: Uint8Array): Failure | 'ok' => {
  const result = decodeRemp(b);
  if (result.ok) return 'ok';
  return result.error.details
    ? { code: result.error.code, details: result.error.details }
    : { code: result.error.code };
};
const mutate = (b: Uint8Array, at: number, ...values: number[]) => {
  const copy = b.slice();
  copy.set(values, at);
  return copy;
};
const cut = (b: Uint8Array, drop: number) => b.slice(0, b.length - drop);
/** The first byte of the payload of a vector with a 32-byte token / none. */
const P32 = 31 + 32;
const P0 = 31;

describe('hostile REMP datagrams get typed errors, never exceptions', () => {
  it('TRUNCATED: a short header', () => {
    expect(failure(new Uint8Array(0))).toEqual({ code: 'TRUNCATED', details: { length: 0 } });
    expect(failure(ascii('REM'))).toEqual({ code: 'TRUNCATED', details: { length: 3 } });
    expect(failure(ascii('REMP'))).toEqual({ code: 'TRUNCATED', details: { length: 4 } });
    expect(failure(PAIRING_START.subarray(0, 30))).toEqual({ code: 'TRUNCATED', details: { length: 30 } });
  });

  it('TRUNCATED: short payloads of each type', () => {
    // CAN frame: 8 bytes before the data.
    expect(failure(CAN_DLC0.subarray(0, P0 + 7))).toEqual({ code: 'TRUNCATED', details: { length: 7 } });
    expect(failure(CAN_STD.subarray(0, P32))).toEqual({ code: 'TRUNCATED', details: { length: 0 } });
    // CAN config: 16 bytes.
    expect(failure(cut(CAN_CONFIG_SET, 1))).toEqual({ code: 'TRUNCATED', details: { length: 15 } });
    // Pairing: 20 bytes in common.
    expect(failure(cut(PAIRING_START, 1))).toEqual({ code: 'TRUNCATED', details: { length: 19 } });
    expect(failure(PAIRING_ACK_OK.subarray(0, P0 + 4))).toEqual({
      code: 'TRUNCATED',
      details: { length: 4 },
    });
    // PAIRING_SUBMIT: PIN, nonce and token_len.
    expect(failure(PAIRING_SUBMIT.subarray(0, P0 + 20))).toEqual({
      code: 'TRUNCATED',
      details: { length: 20 },
    });
    expect(failure(PAIRING_SUBMIT.subarray(0, P0 + 42))).toEqual({
      code: 'TRUNCATED',
      details: { length: 42 },
    });
    // ACK: a nonce cut short.
    expect(failure(cut(PAIRING_ACK_OK, 1))).toEqual({ code: 'TRUNCATED', details: { length: 35 } });
    expect(failure(cut(PAIRING_ACK_OK, 15))).toEqual({ code: 'TRUNCATED', details: { length: 21 } });
    // CLI: 22 bytes in common, 24 for a response.
    expect(failure(CMD_REQ.subarray(0, P32 + 21))).toEqual({ code: 'TRUNCATED', details: { length: 21 } });
    expect(failure(CMD_RSP_DENIED.subarray(0, P0 + 23))).toEqual({
      code: 'TRUNCATED',
      details: { length: 23 },
    });
    expect(failure(CMD_RSP_DENIED.subarray(0, P0 + 22))).toEqual({
      code: 'TRUNCATED',
      details: { length: 22 },
    });
    expect(failure(CMD_RSP_DENIED.subarray(0, P0))).toEqual({ code: 'TRUNCATED', details: { length: 0 } });
  });

  it('BAD_MAGIC', () => {
    expect(failure(mutate(CAN_STD, 0, 0x58))).toEqual({ code: 'BAD_MAGIC', details: { magic: '58454d50' } });
    expect(failure(mutate(CAN_STD, 3, 0x70))).toEqual({ code: 'BAD_MAGIC', details: { magic: '52454d70' } });
    // A discovery datagram on the REMP port.
    expect(failure(bytes('4f 42 44 32 01 01 00 12 00 00 01 00 00 00 2c 01 54 46'))).toEqual({
      code: 'BAD_MAGIC',
      details: { magic: '4f424432' },
    });
  });

  it('UNKNOWN_PROTO: a version other than 1', () => {
    for (const version of [0, 2, 0xff]) {
      expect(failure(mutate(CAN_STD, 4, version))).toEqual({ code: 'UNKNOWN_PROTO', details: { version } });
    }
  });

  it('UNKNOWN_TYPE: 1 (unused) and 5', () => {
    for (const type of [1, 5, 0xff]) {
      expect(failure(mutate(CAN_STD, 5, type))).toEqual({ code: 'UNKNOWN_TYPE', details: { type } });
    }
  });

  it('FIELD_TOO_LARGE: token_len 65, a PAIRING_SUBMIT token_len 65, cmd_len 1025', () => {
    // A datagram long enough for a 65-byte token, so that only the limit is wrong.
    const long = new Uint8Array(200);
    long.set(CAN_STD);
    expect(failure(mutate(long, 8, 65))).toEqual({ code: 'FIELD_TOO_LARGE', details: { token_len: 65 } });
    expect(failure(mutate(long, 8, 0xff))).toEqual({ code: 'FIELD_TOO_LARGE', details: { token_len: 255 } });
    // token_len 64 is allowed: 64 bytes of token, then a payload of zeros (CAN id 0, dlc 0).
    expect(failure(mutate(long, 8, 64))).toBe('ok');
    const submit = new Uint8Array(PAIRING_SUBMIT.length + 40);
    submit.set(PAIRING_SUBMIT);
    expect(failure(mutate(submit, P0 + 42, 65))).toEqual({
      code: 'FIELD_TOO_LARGE',
      details: { token_len: 65 },
    });
    const req = new Uint8Array(CMD_REQ.length + 1100).fill(0x61);
    req.set(CMD_REQ);
    expect(failure(mutate(req, P32 + 20, 0x04, 0x01))).toEqual({
      code: 'FIELD_TOO_LARGE',
      details: { cmd_len: 1025 },
    });
    expect(failure(mutate(req, P32 + 20, 0x04, 0x00))).toBe('ok'); // cmd_len 1024 is allowed
  });

  it('LENGTH_OVERRUN: token, CAN data, command, output and submit token past the datagram', () => {
    expect(failure(mutate(PAIRING_START, 8, 21))).toEqual({
      code: 'LENGTH_OVERRUN',
      details: { token_len: 21, length: 51 },
    });
    expect(failure(mutate(PAIRING_START, 8, 20))).toMatchObject({ code: 'TRUNCATED' }); // the token fits
    expect(failure(CAN_STD.subarray(0, 40))).toEqual({
      code: 'LENGTH_OVERRUN',
      details: { token_len: 32, length: 40 },
    });
    expect(failure(cut(CAN_STD, 1))).toEqual({ code: 'LENGTH_OVERRUN', details: { dlc: 8 } });
    expect(failure(mutate(CAN_EXT, P32 + 5, 4))).toEqual({ code: 'LENGTH_OVERRUN', details: { dlc: 4 } });
    expect(failure(cut(CMD_REQ, 1))).toEqual({ code: 'LENGTH_OVERRUN', details: { cmd_len: 13 } });
    expect(failure(cut(CMD_RSP_ALL_FLAGS, 1))).toEqual({ code: 'LENGTH_OVERRUN', details: { out_len: 5 } });
    expect(failure(mutate(CMD_RSP_DENIED, P0 + 22, 0xff, 0xff))).toEqual({
      code: 'LENGTH_OVERRUN',
      details: { out_len: 65535 },
    });
    expect(failure(cut(PAIRING_SUBMIT, 1))).toEqual({ code: 'LENGTH_OVERRUN', details: { token_len: 32 } });
  });

  it('BAD_FIELD: CAN ids out of range and dlc over 8', () => {
    expect(failure(mutate(CAN_STD, P32, 0x00, 0x00, 0x08, 0x00))).toEqual({
      code: 'BAD_FIELD',
      details: { id: 0x800 },
    });
    expect(failure(mutate(CAN_STD, P32, 0x7f, 0xff, 0xff, 0xff))).toEqual({
      code: 'BAD_FIELD',
      details: { id: 0x7fffffff },
    });
    expect(failure(mutate(CAN_STD, P32, 0x00, 0x00, 0x07, 0xff))).toBe('ok'); // 0x7FF is the edge
    expect(failure(mutate(CAN_EXT, P32, 0xa0, 0x00, 0x00, 0x00))).toEqual({
      code: 'BAD_FIELD',
      details: { id: 0x20000000 },
    });
    expect(failure(mutate(CAN_EXT, P32, 0xff, 0xff, 0xff, 0xff))).toEqual({
      code: 'BAD_FIELD',
      details: { id: 0x7fffffff },
    });
    expect(failure(mutate(CAN_STD, P32 + 5, 9))).toEqual({ code: 'BAD_FIELD', details: { dlc: 9 } });
    expect(failure(mutate(CAN_STD, P32 + 5, 0xff))).toEqual({ code: 'BAD_FIELD', details: { dlc: 255 } });
  });

  it('BAD_FIELD: unknown enum values', () => {
    const p = P32;
    expect(failure(mutate(CAN_CONFIG_SET, p, 3))).toEqual({ code: 'BAD_FIELD', details: { action: 3 } });
    expect(failure(mutate(CAN_CONFIG_SET, p + 1, 3))).toEqual({ code: 'BAD_FIELD', details: { status: 3 } });
    expect(failure(mutate(CAN_CONFIG_SET, p + 13, 4))).toEqual({ code: 'BAD_FIELD', details: { mode: 4 } });
    expect(failure(mutate(PAIRING_ACK_OK, P0 + 1, 4))).toEqual({ code: 'BAD_FIELD', details: { status: 4 } });
    expect(failure(mutate(CMD_RSP_ALL_FLAGS, p + 1, 4))).toEqual({
      code: 'BAD_FIELD',
      details: { status: 4 },
    });
  });

  it('BAD_FIELD: a PIN that is not 6 ASCII digits (the offending byte, not the PIN)', () => {
    const pinAt = P0 + 20;
    expect(failure(mutate(PAIRING_SUBMIT, pinAt + 2, 0x41))).toEqual({
      code: 'BAD_FIELD',
      details: { pin_offset: 2, byte: 0x41 },
    });
    expect(failure(mutate(PAIRING_SUBMIT, pinAt, 0x2f))).toEqual({
      code: 'BAD_FIELD',
      details: { pin_offset: 0, byte: 0x2f },
    });
    expect(failure(mutate(PAIRING_SUBMIT, pinAt + 5, 0x3a))).toEqual({
      code: 'BAD_FIELD',
      details: { pin_offset: 5, byte: 0x3a },
    });
    expect(failure(mutate(PAIRING_SUBMIT, pinAt + 3, 0xff))).toEqual({
      code: 'BAD_FIELD',
      details: { pin_offset: 3, byte: 0xff },
    });
    // U+0661 ARABIC-INDIC DIGIT ONE is a digit, but not an ASCII one.
    expect(failure(mutate(PAIRING_SUBMIT, pinAt, 0xd9, 0xa1))).toEqual({
      code: 'BAD_FIELD',
      details: { pin_offset: 0, byte: 0xd9 },
    });
  });

  it('BAD_FIELD: a command that is not UTF-8', () => {
    const cmdAt = P32 + 22;
    expect(failure(mutate(CMD_REQ, cmdAt + 4, 0xff))).toEqual({
      code: 'BAD_FIELD',
      details: { cmd_len: 13 },
    });
    expect(failure(mutate(CMD_REQ, cmdAt + 12, 0xc3))).toEqual({
      code: 'BAD_FIELD',
      details: { cmd_len: 13 },
    }); // a 2-byte sequence cut by the end
    expect(failure(mutate(CMD_REQ, cmdAt, 0xed, 0xa0, 0x80))).toEqual({
      code: 'BAD_FIELD',
      details: { cmd_len: 13 },
    }); // an encoded surrogate
  });

  it('BAD_FIELD: unknown pairing and CLI actions', () => {
    for (const action of [0, 4, 0xff]) {
      expect(failure(mutate(PAIRING_START, P0, action))).toEqual({ code: 'BAD_FIELD', details: { action } });
    }
    for (const action of [0, 3, 0xff]) {
      expect(failure(mutate(CMD_REQ, P32, action))).toEqual({ code: 'BAD_FIELD', details: { action } });
    }
  });

  it('every error has a message', () => {
    for (const b of [new Uint8Array(0), mutate(CAN_STD, 4, 2), cut(CMD_REQ, 1), mutate(CMD_REQ, P32, 9)]) {
      const result = decodeRemp(b);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message.length).toBeGreaterThan(10);
    }
  });
});

// ---- the encoder refuses what no decoder would accept ----

describe('encodeRemp refuses out-of-range input with a RangeError', () => {
  const withFrame = (frame: Partial<CanFrame>): RempMessage => ({
    ...CAN_STD_VALUE,
    type: 'can_frame',
    frame: { ...(CAN_STD_VALUE as Extract<RempMessage, { type: 'can_frame' }>).frame, ...frame },
  });
  const submit = PAIRING_SUBMIT_VALUE as Extract<RempMessage, { type: 'pairing' }>;
  const withSubmit = (change: Record<string, unknown>): RempMessage =>
    ({ ...submit, pairing: { ...submit.pairing, ...change } }) as RempMessage;
  const cliReq = CMD_REQ_VALUE as Extract<RempMessage, { type: 'cli' }>;
  const rsp = CMD_RSP_ALL_FLAGS_VALUE as Extract<RempMessage, { type: 'cli' }>;
  const withRsp = (change: Record<string, unknown>): RempMessage =>
    ({ ...rsp, cli: { ...rsp.cli, ...change } }) as RempMessage;
  const cfg = CAN_CONFIG_SET_VALUE as Extract<RempMessage, { type: 'can_config' }>;
  const withConfig = (change: Record<string, unknown>): RempMessage =>
    ({ ...cfg, config: { ...cfg.config, config: { ...cfg.config.config, ...change } } }) as RempMessage;

  const refused: Array<[string, RempMessage]> = [
    ['standard id 0x800', withFrame({ id: 0x800 })],
    ['extended id 0x20000000', withFrame({ id: 0x20000000, extended: true })],
    ['negative id', withFrame({ id: -1 })],
    ['fractional id', withFrame({ id: 1.5 })],
    ['dlc 9', withFrame({ data: new Uint8Array(9) })],
    ['frame flags 256', withFrame({ flags: 256 })],
    ['header token of 65 bytes', { ...CAN_STD_VALUE, token: new Uint8Array(65) }],
    ['header flags 256', { ...CAN_STD_VALUE, flags: 256 }],
    ['fwBuild 65536', { ...CAN_STD_VALUE, fwBuild: 0x10000 }],
    ['seq 2^32', { ...CAN_STD_VALUE, seq: 2 ** 32 }],
    ['seq -1', { ...CAN_STD_VALUE, seq: -1 }],
    ['timestamp 2^64', { ...CAN_STD_VALUE, timestampUs: 2n ** 64n }],
    ['timestamp -1', { ...CAN_STD_VALUE, timestampUs: -1n }],
    ['uppercase deviceId', { ...CAN_STD_VALUE, deviceId: '00112233445566AA' }],
    ['short deviceId', { ...CAN_STD_VALUE, deviceId: '00112233' }],
    ['bitrate 2^32', withConfig({ bitrate: 2 ** 32 })],
    ['sjw 256', withConfig({ sjw: 256 })],
    ['unknown mode', withConfig({ mode: 'silent' })],
    ['submit token of 65 bytes', withSubmit({ token: new Uint8Array(65) })],
    ['uppercase corrId', withSubmit({ corrId: CORR.toUpperCase() })],
    ['corrId without dashes', withSubmit({ corrId: CORR.replaceAll('-', '') })],
    ['corrId not a UUID', withSubmit({ corrId: 'pairing-1' })],
    ['pin of 5 digits', withSubmit({ pin: '12345' })],
    ['pin of 7 digits', withSubmit({ pin: '1234567' })],
    ['pin with a letter', withSubmit({ pin: '12a456' })],
    ['pin with a newline', withSubmit({ pin: '123456\n' })],
    ['pin of Arabic-Indic digits', withSubmit({ pin: '١٢٣٤٥٦' })],
    ['submit nonce of 15 bytes', withSubmit({ pairingNonce: new Uint8Array(15) })],
    ['submit nonce of 17 bytes', withSubmit({ pairingNonce: new Uint8Array(17) })],
    ['seconds 65536', withSubmit({ seconds: 0x10000 })],
    [
      'ack nonce of 15 bytes',
      {
        ...PAIRING_ACK_OK_VALUE,
        pairing: { action: 'ack', corrId: CORR, status: 'ok', seconds: 1, pairingNonce: new Uint8Array(15) },
      },
    ],
    [
      'unknown ack status',
      {
        ...PAIRING_ACK_OK_VALUE,
        pairing: { action: 'ack', corrId: CORR, status: 'maybe', seconds: 1 },
      } as unknown as RempMessage,
    ],
    [
      'command of 1025 bytes',
      { ...cliReq, cli: { ...cliReq.cli, command: 'a'.repeat(1025) } } as RempMessage,
    ],
    [
      'command of 513 two-byte characters',
      { ...cliReq, cli: { ...cliReq.cli, command: 'é'.repeat(513) } } as RempMessage,
    ],
    [
      'command with a lone surrogate',
      { ...cliReq, cli: { ...cliReq.cli, command: 'help\ud800' } } as RempMessage,
    ],
    ['request corrId not a UUID', { ...cliReq, cli: { ...cliReq.cli, corrId: '' } } as RempMessage],
    ['chunk 256', withRsp({ chunk: 256 })],
    ['chunk -1', withRsp({ chunk: -1 })],
    ['exit code 65536', withRsp({ exitCode: 0x10000 })],
    ['output of 65536 bytes', withRsp({ output: new Uint8Array(0x10000) })],
    ['unknown CLI status', withRsp({ status: 'crashed' })],
  ];

  it.each(refused)('%s', (_name, message) => {
    expect(() => encodeRemp(message)).toThrow(RangeError);
  });

  it('accepts the edges', () => {
    expect(() => encodeRemp(withFrame({ id: 0x7ff }))).not.toThrow();
    expect(() => encodeRemp(withFrame({ id: 0x1fffffff, extended: true }))).not.toThrow();
    expect(() => encodeRemp({ ...CAN_STD_VALUE, token: new Uint8Array(64) })).not.toThrow();
    expect(() => encodeRemp(withSubmit({ token: new Uint8Array(64), pin: '000000' }))).not.toThrow();
    expect(() =>
      encodeRemp({ ...cliReq, cli: { ...cliReq.cli, command: 'a'.repeat(1024) } } as RempMessage),
    ).not.toThrow();
    expect(() =>
      encodeRemp({ ...cliReq, cli: { ...cliReq.cli, command: '😀'.repeat(256) } } as RempMessage),
    ).not.toThrow();
    expect(() =>
      encodeRemp(withRsp({ output: new Uint8Array(0xffff), chunk: 255, exitCode: 0xffff })),
    ).not.toThrow();
  });
});

// ---- properties ----

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytesArb = (minLength: number, maxLength: number) => fc.uint8Array({ minLength, maxLength });
/** Every lowercase UUID form: real UUIDs and any 16 bytes written as one. */
const corrIdArb = fc.oneof(
  fc.uuid().map((u) => u.toLowerCase()),
  bytesArb(16, 16).map((b) => {
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }),
);
/** Edges first, then anything in range. */
const edged = (max: number) => fc.oneof(fc.constantFrom(0, 1, max - 1, max), fc.integer({ min: 0, max }));

const headerArb: fc.Arbitrary<RempHeader> = fc.record({
  flags: u8,
  fwBuild: u16,
  deviceId: bytesArb(8, 8).map(hex),
  seq: fc.oneof(fc.constantFrom(0, 0xffffffff), u32),
  timestampUs: fc.oneof(fc.constantFrom(0n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  token: fc.oneof(bytesArb(32, 32), bytesArb(0, 64)),
});

const canFrameArb: fc.Arbitrary<CanFrame> = fc.oneof(
  fc.record({ id: edged(0x7ff), extended: fc.constant(false), flags: u8, data: bytesArb(0, 8) }),
  fc.record({ id: edged(0x1fffffff), extended: fc.constant(true), flags: u8, data: bytesArb(0, 8) }),
);
const canConfigArb: fc.Arbitrary<CanConfigMessage> = fc.record({
  action: fc.constantFrom(...CAN_CONFIG_ACTIONS),
  status: fc.constantFrom(...CAN_CONFIG_STATUSES),
  config: fc.record({
    bitrate: fc.oneof(fc.constantFrom(0, 125000, 250000, 500000, 1000000, 0xffffffff), u32),
    samplePointPermille: u16,
    prescaler: u16,
    sjw: u8,
    tseg1: u8,
    tseg2: u8,
    mode: fc.constantFrom(...CAN_MODES),
    flags: fc.record({
      useRaw: fc.boolean(),
      autoRetx: fc.boolean(),
      txPause: fc.boolean(),
      protocolExc: fc.boolean(),
    }),
  }),
});
const pinArb = fc
  .array(fc.constantFrom(...'0123456789'), { minLength: 6, maxLength: 6 })
  .map((d) => d.join(''));
const pairingArb: fc.Arbitrary<PairingMessage> = fc.oneof(
  fc.record({ action: fc.constant('start' as const), corrId: corrIdArb, seconds: u16 }),
  fc.record({
    action: fc.constant('submit' as const),
    corrId: corrIdArb,
    seconds: u16,
    pin: pinArb,
    pairingNonce: bytesArb(16, 16),
    token: fc.oneof(bytesArb(32, 32), bytesArb(0, 64)),
  }),
  fc.record(
    {
      action: fc.constant('ack' as const),
      corrId: corrIdArb,
      status: fc.constantFrom(...PAIRING_STATUSES),
      seconds: u16,
      pairingNonce: bytesArb(16, 16),
    },
    { requiredKeys: ['action', 'corrId', 'status', 'seconds'] },
  ),
);
const commandArb = fc.oneof(
  fc.constantFrom(...CLI_ALLOWLIST),
  fc.string({ unit: 'binary', maxLength: 256 }), // at most 4 bytes a code point: ≤ 1024 bytes
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', 'a'.repeat(1024), '€'.repeat(341), '\ufeffhelp', '😀'.repeat(256)),
);
const cliArb: fc.Arbitrary<CliMessage> = fc.oneof(
  fc.record({
    action: fc.constant('request' as const),
    corrId: corrIdArb,
    allowDangerous: fc.boolean(),
    command: commandArb,
  }),
  fc.record({
    action: fc.constant('response' as const),
    corrId: corrIdArb,
    status: fc.constantFrom(...CLI_STATUSES),
    truncated: fc.boolean(),
    more: fc.boolean(),
    stderr: fc.boolean(),
    chunk: edged(255),
    exitCode: edged(0xffff),
    output: bytesArb(0, 2000),
  }),
);
const bodyArb: fc.Arbitrary<RempBody> = fc.oneof(
  canFrameArb.map((frame) => ({ type: 'can_frame' as const, frame })),
  canConfigArb.map((config) => ({ type: 'can_config' as const, config })),
  pairingArb.map((pairing) => ({ type: 'pairing' as const, pairing })),
  cliArb.map((cli) => ({ type: 'cli' as const, cli })),
);
const messageArb: fc.Arbitrary<RempMessage> = fc
  .tuple(headerArb, bodyArb)
  .map(([header, body]) => ({ ...header, ...body }) as RempMessage);

const SEEDS = VECTORS.map(([, datagram]) => datagram);

describe('REMP properties (fast-check)', () => {
  it('decode(encode(x)) = x for every type and action', () => {
    fc.assert(
      fc.property(messageArb, (message) => {
        const encoded = encodeRemp(message);
        expect(encoded.length).toBeGreaterThanOrEqual(31 + message.token.length);
        expect(decodeRemp(encoded)).toEqual({ ok: true, value: message });
      }),
      { numRuns: 5000 },
    );
  });

  it('covers every type and action', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(messageArb, (m) => {
        const action =
          m.type === 'pairing'
            ? m.pairing.action
            : m.type === 'cli'
              ? m.cli.action
              : m.type === 'can_config'
                ? m.config.action
                : '';
        seen.add(`${m.type} ${action}`);
      }),
      { numRuns: 2000 },
    );
    expect([...seen].sort()).toEqual([
      'can_config get',
      'can_config response',
      'can_config set',
      'can_frame ',
      'cli request',
      'cli response',
      'pairing ack',
      'pairing start',
      'pairing submit',
    ]);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const result = decodeRemp(b);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 10000 },
    );
    // Random bytes after a valid magic, version and type, so that the decoder gets past the header.
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 3, 4, 5), fc.uint8Array({ maxLength: 200 }), (type, rest) => {
        const b = new Uint8Array(6 + rest.length);
        b.set([0x52, 0x45, 0x4d, 0x50, 1, type]);
        b.set(rest, 6);
        const result = decodeRemp(b);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 10000 },
    );
  });

  it('never throws on mutated valid encodings', () => {
    const mutatedArb = fc.tuple(
      fc.oneof(fc.constantFrom(...SEEDS), messageArb.map(encodeRemp)),
      fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('overwrite', 'cut', 'insert', 'remove'),
      fc.nat(),
      bytesArb(1, 8),
    );
    fc.assert(
      fc.property(mutatedArb, ([base, writes, how, at, extra]) => {
        let b: Uint8Array = base.slice();
        if (how === 'overwrite') for (const [i, v] of writes) b[i % b.length] = v;
        else if (how === 'cut') b = b.subarray(0, at % b.length);
        else if (how === 'insert') {
          const i = at % (b.length + 1);
          b = Uint8Array.from([...b.subarray(0, i), ...extra, ...b.subarray(i)]);
        } else {
          const i = at % b.length;
          b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]);
        }
        const result = decodeRemp(b);
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(result.error.code).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: 10000 },
    );
  });

  it('a cut datagram never decodes to the same message (bodies run to the end but lengths are checked)', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (message, drop) => {
        const encoded = encodeRemp(message);
        const short = encoded.subarray(0, drop % encoded.length);
        const result = decodeRemp(short);
        if (result.ok) expect(result.value).not.toEqual(message);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('datagramKind', () => {
  it('tells REMP, discovery and anything else apart by the magic', () => {
    expect(datagramKind(CAN_STD)).toBe('remp');
    expect(datagramKind(ascii('REMP'))).toBe('remp');
    expect(datagramKind(bytes('4f 42 44 32 01 01 00 12 00 00 01 00 00 00 2c 01 54 46'))).toBe('discovery');
    expect(datagramKind(ascii('OBD2'))).toBe('discovery');
    expect(datagramKind(ascii('remp'))).toBeUndefined();
    expect(datagramKind(ascii('XREMP'))).toBeUndefined();
    expect(datagramKind(ascii('GET / HTTP/1.1'))).toBeUndefined();
    expect(datagramKind(ascii('REM'))).toBeUndefined();
    expect(datagramKind(ascii('OBD'))).toBeUndefined();
    expect(datagramKind(new Uint8Array(0))).toBeUndefined();
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect([undefined, 'remp', 'discovery']).toContain(datagramKind(b));
      }),
    );
  });
});
