import { MAX_EXTENDED_ID, MAX_STANDARD_ID } from '@canopy/remp';
import { z } from 'zod';
import type { BusFrame } from './ecu';
import { MAX_RATE, parsePattern, type TrafficPlan } from './traffic';

/* The bodies the control interface accepts (docs/dongle-sim.md). */

/** A CAN id: a number or a hex string ("0x7df", "7df"). */
const CanId = z.union([
  z.number().int().min(0).max(MAX_EXTENDED_ID),
  z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{1,8}$/, 'a CAN id is a number or a hex string such as "0x7df"')
    .transform((s) => Number.parseInt(s.replace(/^0x/, ''), 16))
    .refine((n) => n <= MAX_EXTENDED_ID, 'a CAN id is at most 0x1fffffff'),
]);

/** 11-bit unless the id needs 29 bits or `extended` says so. */
const frameId = (id: number, extended: boolean | undefined) => ({
  id,
  extended: extended ?? id > MAX_STANDARD_ID,
});

const Hex = z.string().regex(/^(?:[0-9a-fA-F]{2}){0,8}$/, 'data is 0 to 8 bytes as hex, such as "02010c"');

export const CliKnobsBody = z
  .object({
    delay_ms: z.number().int().min(0).max(60_000).optional(),
    pad_bytes: z
      .number()
      .int()
      .min(0)
      .max(1024 * 1024)
      .optional(),
  })
  .strict();

export const FramesBody = z
  .object({
    frames: z
      .array(
        z
          .object({ id: CanId, data: Hex, extended: z.boolean().optional() })
          .strict()
          .refine((f) => f.extended !== false || f.id <= MAX_STANDARD_ID, {
            path: ['id'],
            message: 'an 11-bit id is at most 0x7ff',
          }),
      )
      .min(1)
      .max(1000),
  })
  .strict()
  .transform(({ frames }): BusFrame[] =>
    frames.map((f) => ({ ...frameId(f.id, f.extended), data: Uint8Array.from(Buffer.from(f.data, 'hex')) })),
  );

export const TrafficBody = z
  .object({
    rate: z.number().int().min(1).max(MAX_RATE),
    ids: z.array(CanId).min(1).max(256),
    extended: z.boolean().optional(),
    pattern: z.string().default('counter'),
    dlc: z.number().int().min(0).max(8).optional(),
    count: z.number().int().min(1).max(100_000_000).optional(),
    duration_ms: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600_000)
      .optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const pattern = parsePattern(b.pattern);
    if (pattern === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: 'pattern is counter, random or fixed:<hex, 0–8 bytes>',
      });
    } else if (pattern.kind === 'counter' && b.dlc !== undefined && b.dlc < 4) {
      ctx.addIssue({ code: 'custom', path: ['dlc'], message: 'the counter pattern needs a dlc of 4 to 8' });
    }
    if (b.extended === false && b.ids.some((id) => id > MAX_STANDARD_ID)) {
      ctx.addIssue({ code: 'custom', path: ['ids'], message: 'an 11-bit id is at most 0x7ff' });
    }
  })
  .transform(
    (b): TrafficPlan => ({
      rate: b.rate,
      ids: b.ids.map((id) => frameId(id, b.extended)),
      pattern: parsePattern(b.pattern) ?? { kind: 'counter' },
      dlc: b.dlc ?? 8,
      ...(b.count !== undefined ? { count: b.count } : {}),
      ...(b.duration_ms !== undefined ? { durationMs: b.duration_ms } : {}),
      ...(b.seed !== undefined ? { seed: b.seed } : {}),
    }),
  );
