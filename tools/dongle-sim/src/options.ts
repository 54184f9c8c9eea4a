import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';

export interface Options {
  count: number;
  host: string;
  discoveryPort: number;
  discoveryUnicast: boolean;
  rempPortBase: number;
  seed: string;
  fwBuild: string;
  fwBuildNumber: number;
  statePath: string | undefined;
  controlPort: number;
  pairingSeconds: number;
  cooldownSeconds: number;
  cliTimeoutMs: number;
  quiet: boolean;
}

export const MAX_DONGLES = 64;

export const HELP = `canopy-dongle-sim: OBD2 dongles on the real UDP wire format (discovery + REMP v1), with a virtual ECU

Usage: canopy-dongle-sim [options]

Options:
  --count N              simulated dongles, 1–${MAX_DONGLES} (default 1)
  --host ADDR            the dongles' LAN address: REMP sockets bind here, ANNOUNCE lan_ip (default 127.0.0.1)
  --discovery-port P     where DISCOVERs are heard, on the broadcast address of --host's interface (default 50000)
  --discovery-unicast    also hear DISCOVERs sent to ADDR:P (off: on one machine it steals the node's replies)
  --remp-port-base P     dongle i binds P+i; 0 = an ephemeral port each (default 51000)
  --seed S               device ids are derived from S and the index (default "sim")
  --fw-build STR         the fw_build string of ANNOUNCE (default sim-2026.11)
  --fw-build-number N    the fw_build u16 of REMP headers (default 2611)
  --state FILE           keep each dongle's secret, token and CAN config across restarts (written 0600)
  --control-port P       the HTTP control interface, on 127.0.0.1 only; 0 = ephemeral (default 0)
  --pairing-seconds N    how long pairing mode lasts (default 120)
  --cooldown-seconds N   the lock-out after 5 wrong PINs (default 300)
  --cli-timeout-ms N     a CLI command slower than this answers 'timeout', 100–15000 (default 5000)
  --quiet                print only the start-up lines and the PINs
  --help                 this text

On start it prints one line per dongle, the discovery address, then "control: http://127.0.0.1:<port>".
It never broadcasts and only sends to peers that sent it a datagram. Docs: docs/dongle-sim.md.
Exit codes: 0 stopped by SIGINT/SIGTERM or --help, 1 failure (a port in use), 2 bad options.
`;

/** A bad command line: printed with a hint, exit code 2. */
export class UsageError extends Error {}

type Parsed = { help: true } | { help: false; options: Options };

/** Parses the command line; throws UsageError with a readable message on anything invalid. */
export function parseOptions(argv: string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: 'string' },
        host: { type: 'string' },
        'discovery-port': { type: 'string' },
        'discovery-unicast': { type: 'boolean' },
        'remp-port-base': { type: 'string' },
        seed: { type: 'string' },
        'fw-build': { type: 'string' },
        'fw-build-number': { type: 'string' },
        state: { type: 'string' },
        'control-port': { type: 'string' },
        'pairing-seconds': { type: 'string' },
        'cooldown-seconds': { type: 'string' },
        'cli-timeout-ms': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return { help: true };
  const str = (name: string) => values[name] as string | undefined;
  const count = int(str('count'), 'count', 1, MAX_DONGLES, 1);
  const rempPortBase = int(str('remp-port-base'), 'remp-port-base', 0, 65535, 51000);
  if (rempPortBase > 0 && rempPortBase + count - 1 > 65535) {
    throw new UsageError(`--remp-port-base ${rempPortBase} leaves no room for ${count} dongles below 65536`);
  }
  const host = str('host') ?? '127.0.0.1';
  if (!isIPv4(host) || host === '0.0.0.0') {
    throw new UsageError(
      `--host must be the IPv4 address of one of this machine's interfaces, not "${host}"`,
    );
  }
  const seed = str('seed') ?? 'sim';
  const fwBuild = str('fw-build') ?? 'sim-2026.11';
  if (fwBuild.length === 0 || Buffer.byteLength(fwBuild) > 64) {
    throw new UsageError('--fw-build must be 1 to 64 bytes of UTF-8');
  }
  const statePath = str('state');
  if (statePath === '') throw new UsageError('--state needs a file name');
  return {
    help: false,
    options: {
      count,
      host,
      discoveryPort: int(str('discovery-port'), 'discovery-port', 1, 65535, 50000),
      discoveryUnicast: values['discovery-unicast'] === true,
      rempPortBase,
      seed,
      fwBuild,
      fwBuildNumber: int(str('fw-build-number'), 'fw-build-number', 0, 0xffff, 2611),
      statePath,
      controlPort: int(str('control-port'), 'control-port', 0, 65535, 0),
      pairingSeconds: int(str('pairing-seconds'), 'pairing-seconds', 1, 3600, 120),
      cooldownSeconds: int(str('cooldown-seconds'), 'cooldown-seconds', 1, 65535, 300),
      cliTimeoutMs: int(str('cli-timeout-ms'), 'cli-timeout-ms', 100, 15000, 5000),
      quiet: values.quiet === true,
    },
  };
}

function int(text: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}
