import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { CanConfig } from '@canopy/remp';
import { CAN_MODES } from '@canopy/remp';
import { z } from 'zod';
import { canConfigProblems } from './can-config';
import type { Persisted } from './dongle';

/*
 * --state FILE: what each dongle keeps in flash (secret, token, CAN config), so a restart of the simulator
 * is a reboot of the dongles, not a factory reset. JSON, written 0600 (it holds tokens), replaced atomically.
 */

const CanConfigJson = z.object({
  bitrate: z.number().int(),
  samplePointPermille: z.number().int(),
  prescaler: z.number().int(),
  sjw: z.number().int(),
  tseg1: z.number().int(),
  tseg2: z.number().int(),
  mode: z.enum(CAN_MODES),
  flags: z.object({
    useRaw: z.boolean(),
    autoRetx: z.boolean(),
    txPause: z.boolean(),
    protocolExc: z.boolean(),
  }),
});

const StateJson = z.object({
  version: z.literal(1),
  dongles: z.record(
    z.string().regex(/^[0-9a-f]{16}$/),
    z.object({
      secret: z.string().regex(/^[0-9a-f]{64}$/),
      token: z.string().base64().nullable(),
      can_config: CanConfigJson.optional(),
    }),
  ),
});

/** A state file that cannot be read as one. */
export class StateFileError extends Error {}

/** The dongles kept in the file, by device id (empty when the file does not exist yet). */
export function readState(path: string): Map<string, KeptDongle> {
  const out = new Map<string, KeptDongle>();
  if (!existsSync(path)) return out;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StateFileError(`${path} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = StateJson.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new StateFileError(
      `${path} is not a dongle-sim state file: ${first?.path.join('.')} ${first?.message}`,
    );
  }
  for (const [deviceId, d] of Object.entries(parsed.data.dongles)) {
    const canConfig = d.can_config as CanConfig | undefined;
    out.set(deviceId, {
      secret: Uint8Array.from(Buffer.from(d.secret, 'hex')),
      token: d.token === null ? undefined : Uint8Array.from(Buffer.from(d.token, 'base64')),
      ...(canConfig && canConfigProblems(canConfig).length === 0 ? { canConfig } : {}),
    });
  }
  return out;
}

export type KeptDongle = Partial<Persisted> & { secret: Uint8Array };

/** Writes every dongle's flash, by device id (0600, through a temporary file and a rename). */
export function writeState(path: string, dongles: Map<string, KeptDongle>): void {
  const json = {
    version: 1,
    dongles: Object.fromEntries(
      [...dongles].map(([deviceId, p]) => [
        deviceId,
        {
          secret: Buffer.from(p.secret).toString('hex'),
          token: p.token === undefined ? null : Buffer.from(p.token).toString('base64'),
          ...(p.canConfig ? { can_config: p.canConfig } : {}),
        },
      ]),
    ),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
