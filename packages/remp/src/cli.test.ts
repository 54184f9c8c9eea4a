import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLI_ALLOWLIST,
  CLI_CHUNK_BYTES,
  CLI_OUTPUT_CAP,
  CliAssembler,
  type CliMessage,
  type CliStatus,
  decodeRemp,
  encodeRemp,
  isAllowedCommand,
  splitCliOutput,
} from '.';

type CliResponse = Extract<CliMessage, { action: 'response' }>;

const CORR = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const utf8 = (text: string) => new TextEncoder().encode(text);
/** Bytes 0, 1, 2, … (mod 251, so that a chunk boundary in the wrong place shows). */
const counting = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const split = (stdout: Uint8Array, stderr?: Uint8Array, chunkBytes?: number) =>
  splitCliOutput(
    { corrId: CORR, status: 'ok', exitCode: 0, stdout, ...(stderr ? { stderr } : {}) },
    chunkBytes,
  );
/** What a chunk list looks like, compactly: [stderr?, length, more, chunk, truncated]. */
const shape = (chunks: CliResponse[]) =>
  chunks.map((c) => [c.stderr ? 'err' : 'out', c.output.length, c.more, c.chunk, c.truncated]);

describe('splitCliOutput', () => {
  it('gives one empty stdout chunk for no output', () => {
    expect(split(new Uint8Array(0))).toEqual([
      {
        action: 'response',
        corrId: CORR,
        status: 'ok',
        truncated: false,
        more: false,
        stderr: false,
        chunk: 0,
        exitCode: 0,
        output: new Uint8Array(0),
      },
    ]);
    expect(split(new Uint8Array(0), new Uint8Array(0))).toHaveLength(1);
  });

  it('carries corr_id, status and exit code on every chunk', () => {
    const chunks = splitCliOutput(
      { corrId: CORR, status: 'error', exitCode: 127, stdout: counting(10), stderr: counting(3) },
      4,
    );
    for (const c of chunks)
      expect([c.action, c.corrId, c.status, c.exitCode]).toEqual(['response', CORR, 'error', 127]);
  });

  it('fills chunks exactly: no empty chunk after an exact multiple', () => {
    expect(shape(split(counting(CLI_CHUNK_BYTES)))).toEqual([['out', 1024, false, 0, false]]);
    expect(shape(split(counting(2048)))).toEqual([
      ['out', 1024, true, 0, false],
      ['out', 1024, false, 1, false],
    ]);
    expect(shape(split(counting(2049)))).toEqual([
      ['out', 1024, true, 0, false],
      ['out', 1024, true, 1, false],
      ['out', 1, false, 2, false],
    ]);
    expect(shape(split(counting(12), undefined, 4))).toEqual([
      ['out', 4, true, 0, false],
      ['out', 4, true, 1, false],
      ['out', 4, false, 2, false],
    ]);
  });

  it('sends stdout, then stderr, never both in one chunk', () => {
    const chunks = split(utf8('hello'), utf8('warning'), 4);
    expect(shape(chunks)).toEqual([
      ['out', 4, true, 0, false],
      ['out', 1, true, 1, false],
      ['err', 4, true, 2, false],
      ['err', 3, false, 3, false],
    ]);
    expect(chunks.map((c) => new TextDecoder().decode(c.output))).toEqual(['hell', 'o', 'warn', 'ing']);
    // stderr alone: no empty stdout chunk in front.
    expect(shape(split(new Uint8Array(0), utf8('oops'), 4))).toEqual([['err', 4, false, 0, false]]);
  });

  it('caps the output at 64 KiB and marks every chunk truncated', () => {
    expect(CLI_OUTPUT_CAP).toBe(65536);
    const over = split(counting(CLI_OUTPUT_CAP + 1));
    expect(over).toHaveLength(64);
    expect(over.every((c) => c.truncated)).toBe(true);
    expect(over.reduce((n, c) => n + c.output.length, 0)).toBe(65536);
    // The kept bytes are the first 64 KiB, in order.
    expect(over[63]?.output[1023]).toBe(65535 % 251);

    const mixed = split(counting(60000), counting(10000));
    expect(mixed.every((c) => c.truncated)).toBe(true);
    expect(mixed.filter((c) => !c.stderr).reduce((n, c) => n + c.output.length, 0)).toBe(60000);
    expect(mixed.filter((c) => c.stderr).reduce((n, c) => n + c.output.length, 0)).toBe(5536);

    const stdoutFull = split(counting(CLI_OUTPUT_CAP), counting(1));
    expect(stdoutFull.every((c) => c.truncated && !c.stderr)).toBe(true);

    // Exactly at the cap is not truncated.
    expect(split(counting(CLI_OUTPUT_CAP)).some((c) => c.truncated)).toBe(false);
    expect(split(counting(65000), counting(536)).some((c) => c.truncated)).toBe(false);
  });

  it('marks more=false only on the last chunk and numbers chunks 0..n-1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 24, max: 2000 }), // ≤ 250 chunks
        (outLen, errLen, chunkBytes) => {
          const chunks = split(counting(outLen), counting(errLen), chunkBytes);
          expect(chunks.map((c) => c.chunk)).toEqual(chunks.map((_, i) => i));
          expect(chunks.map((c) => c.more)).toEqual(chunks.map((_, i) => i < chunks.length - 1));
          expect(chunks.length).toBe(
            Math.max(1, Math.ceil(outLen / chunkBytes) + Math.ceil(errLen / chunkBytes)),
          );
          expect(chunks.every((c) => c.output.length <= chunkBytes)).toBe(true);
        },
      ),
    );
  });

  it('refuses more than 256 chunks and a chunk size that cannot work', () => {
    expect(split(counting(256), undefined, 1)).toHaveLength(256);
    expect(() => split(counting(257), undefined, 1)).toThrow(RangeError);
    expect(() => split(counting(10), undefined, 0)).toThrow(RangeError);
    expect(() => split(counting(10), undefined, -4)).toThrow(RangeError);
    expect(() => split(counting(10), undefined, 2.5)).toThrow(RangeError);
    expect(() => split(counting(10), undefined, 0x10000)).toThrow(RangeError);
    expect(split(counting(10), undefined, 0xffff)).toHaveLength(1);
  });
});

describe('CliAssembler', () => {
  const rsp = (
    chunk: number,
    more: boolean,
    output: string,
    extra: Partial<CliResponse> = {},
  ): CliResponse => ({
    action: 'response',
    corrId: CORR,
    status: 'ok',
    truncated: false,
    more,
    stderr: false,
    chunk,
    exitCode: 0,
    output: utf8(output),
    ...extra,
  });

  it('returns the result on the chunk that completes it, whatever the order', () => {
    const assembler = new CliAssembler();
    expect(
      assembler.add(rsp(2, false, 'rld', { stderr: true, exitCode: 3, status: 'error' })),
    ).toBeUndefined();
    expect(assembler.add(rsp(0, true, 'hello '))).toBeUndefined();
    expect(assembler.received).toBe(2);
    expect(assembler.add(rsp(1, true, 'wo', { stderr: true }))).toEqual({
      corrId: CORR,
      status: 'error',
      exitCode: 3,
      truncated: false,
      stdout: 'hello ',
      stderr: 'world',
    });
  });

  it('returns nothing while a chunk is missing, even after the last one', () => {
    const assembler = new CliAssembler();
    expect(assembler.add(rsp(0, true, 'a'))).toBeUndefined();
    expect(assembler.add(rsp(3, false, 'd'))).toBeUndefined();
    expect(assembler.add(rsp(1, true, 'b'))).toBeUndefined();
    expect(assembler.received).toBe(3);
    expect(assembler.add(rsp(2, true, 'c'))).toMatchObject({ stdout: 'abcd', stderr: '' });
  });

  it('ignores duplicates, before and after the result', () => {
    const assembler = new CliAssembler();
    expect(assembler.add(rsp(0, true, 'one '))).toBeUndefined();
    expect(assembler.add(rsp(0, true, 'one '))).toBeUndefined();
    expect(assembler.received).toBe(1);
    expect(assembler.add(rsp(1, false, 'two'))).toMatchObject({ stdout: 'one two' });
    expect(assembler.add(rsp(1, false, 'two'))).toBeUndefined();
    expect(assembler.add(rsp(0, true, 'one '))).toBeUndefined();
    expect(assembler.received).toBe(2);
  });

  it('keeps the first copy of a chunk', () => {
    const assembler = new CliAssembler();
    expect(assembler.add(rsp(0, true, 'first'))).toBeUndefined();
    expect(assembler.add(rsp(0, true, 'second'))).toBeUndefined();
    expect(assembler.add(rsp(1, false, '!'))).toMatchObject({ stdout: 'first!' });
  });

  it('joins a multi-byte character split across chunks, and keeps a leading BOM', () => {
    const text = '\ufeffé€😀 ok';
    const assembler = new CliAssembler();
    const chunks = split(utf8(text), utf8('€rr'), 1);
    expect(chunks).toHaveLength(utf8(text).length + 5);
    let result: ReturnType<CliAssembler['add']>;
    for (const c of chunks.reverse()) result = assembler.add(c);
    expect(result).toEqual({
      corrId: CORR,
      status: 'ok',
      exitCode: 0,
      truncated: false,
      stdout: text,
      stderr: '€rr',
    });
  });

  it('reports truncated when any chunk says so', () => {
    const assembler = new CliAssembler();
    const chunks = split(utf8('x'.repeat(CLI_OUTPUT_CAP + 10)));
    let result: ReturnType<CliAssembler['add']>;
    for (const c of chunks) result = assembler.add(c);
    expect(result?.truncated).toBe(true);
    expect(result?.stdout.length).toBe(CLI_OUTPUT_CAP);
  });

  it('gives back the original stdout and stderr from chunks in any order, with duplicates (fast-check)', () => {
    const caseArb = fc
      .record({
        stdout: fc.string({ unit: 'binary', maxLength: 30 }),
        stderr: fc.string({ unit: 'binary', maxLength: 30 }),
        chunkBytes: fc.integer({ min: 1, max: 16 }),
        status: fc.constantFrom<CliStatus>('ok', 'denied', 'error', 'timeout'),
        exitCode: fc.integer({ min: 0, max: 0xffff }),
      })
      .chain((c) => {
        const chunks = splitCliOutput(
          {
            corrId: CORR,
            status: c.status,
            exitCode: c.exitCode,
            stdout: utf8(c.stdout),
            stderr: utf8(c.stderr),
          },
          c.chunkBytes,
        );
        const indexes = chunks.map((_, i) => i);
        return fc.record({
          c: fc.constant(c),
          chunks: fc.constant(chunks),
          order: fc.shuffledSubarray(indexes, { minLength: indexes.length, maxLength: indexes.length }),
          duplicates: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 5 }),
          wire: fc.boolean(),
        });
      });
    fc.assert(
      fc.property(caseArb, ({ c, chunks, order, duplicates, wire }) => {
        // Deliver each chunk once in `order`, and some again at random places (after their first copy, too).
        const deliveries = order.map((i) => chunks[i] as CliResponse);
        for (const [from, at] of duplicates) {
          deliveries.splice(at % (deliveries.length + 1), 0, chunks[from % chunks.length] as CliResponse);
        }
        const assembler = new CliAssembler();
        const results: Array<[number, unknown]> = [];
        const seen = new Set<number>();
        let completedAt = -1;
        deliveries.forEach((chunk, i) => {
          // Through the codec and back, as over UDP.
          let delivered = chunk;
          if (wire) {
            const decoded = decodeRemp(
              encodeRemp({
                flags: 0,
                fwBuild: 1,
                deviceId: '0011223344556677',
                seq: i,
                timestampUs: 0n,
                token: new Uint8Array(32),
                type: 'cli',
                cli: chunk,
              }),
            );
            if (!decoded.ok || decoded.value.type !== 'cli' || decoded.value.cli.action !== 'response') {
              throw new Error('a chunk did not survive the codec');
            }
            delivered = decoded.value.cli;
          }
          const result = assembler.add(delivered);
          seen.add(chunk.chunk);
          if (completedAt < 0 && seen.size === chunks.length) completedAt = i;
          if (result !== undefined) results.push([i, result]);
        });
        expect(results).toEqual([
          [
            completedAt,
            {
              corrId: CORR,
              status: c.status,
              exitCode: c.exitCode,
              truncated: false,
              stdout: c.stdout,
              stderr: c.stderr,
            },
          ],
        ]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isAllowedCommand', () => {
  it('allows exactly the six commands of REMP.md', () => {
    expect([...CLI_ALLOWLIST]).toEqual([
      'help',
      'remote status',
      'remote stats',
      'can cfg show',
      'discovery status',
      'time status',
    ]);
    for (const command of CLI_ALLOWLIST) expect(isAllowedCommand(command)).toBe(true);
  });

  it('matches exactly: no case folding, trimming or prefixes', () => {
    for (const command of [
      '',
      'help ',
      ' help',
      'HELP',
      'Help',
      'help\n',
      'help\0',
      'remote  status',
      'remote status --all',
      'remote',
      'can cfg',
      'can cfg set bitrate 500000',
      'reboot',
      'help; reboot',
      'ｈｅｌｐ',
    ]) {
      expect(isAllowedCommand(command)).toBe(false);
    }
  });
});
