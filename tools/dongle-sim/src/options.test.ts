import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './options';

const options = (...argv: string[]) => {
  const parsed = parseOptions(argv);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.options;
};

describe('parseOptions', () => {
  it('has the documented defaults', () => {
    expect(options()).toEqual({
      count: 1,
      host: '127.0.0.1',
      discoveryPort: 50000,
      discoveryUnicast: false,
      rempPortBase: 51000,
      seed: 'sim',
      fwBuild: 'sim-2026.11',
      fwBuildNumber: 2611,
      statePath: undefined,
      controlPort: 0,
      pairingSeconds: 120,
      cooldownSeconds: 300,
      cliTimeoutMs: 5000,
      quiet: false,
    });
  });

  it('reads every option', () => {
    expect(
      options(
        '--count=3',
        '--host',
        '127.0.0.2',
        '--discovery-port',
        '45000',
        '--discovery-unicast',
        '--remp-port-base',
        '0',
        '--seed',
        'x',
        '--fw-build',
        'fw-9',
        '--fw-build-number',
        '9',
        '--state',
        '/tmp/s.json',
        '--control-port',
        '8099',
        '--pairing-seconds',
        '5',
        '--cooldown-seconds',
        '7',
        '--cli-timeout-ms',
        '1000',
        '--quiet',
      ),
    ).toEqual({
      count: 3,
      host: '127.0.0.2',
      discoveryPort: 45000,
      discoveryUnicast: true,
      rempPortBase: 0,
      seed: 'x',
      fwBuild: 'fw-9',
      fwBuildNumber: 9,
      statePath: '/tmp/s.json',
      controlPort: 8099,
      pairingSeconds: 5,
      cooldownSeconds: 7,
      cliTimeoutMs: 1000,
      quiet: true,
    });
  });

  it('answers --help and -h', () => {
    expect(parseOptions(['--help'])).toEqual({ help: true });
    expect(parseOptions(['-h', '--count', '0'])).toEqual({ help: true });
  });

  it.each([
    [['--count', '0'], /--count must be a whole number from 1 to 64/],
    [['--count', '65'], /--count/],
    [['--count', '2.5'], /--count/],
    [['--count', '-1'], /--count/],
    [['--discovery-port', '0'], /--discovery-port/],
    [['--discovery-port', '70000'], /--discovery-port/],
    [['--remp-port-base', '65535', '--count', '2'], /leaves no room/],
    [['--host', 'localhost'], /--host must be the IPv4 address/],
    [['--host', '0.0.0.0'], /--host/],
    [['--fw-build', ''], /--fw-build/],
    [['--fw-build-number', '65536'], /--fw-build-number/],
    [['--cli-timeout-ms', '99'], /--cli-timeout-ms/],
    [['--pairing-seconds', 'abc'], /--pairing-seconds/],
    [['--state', ''], /--state/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /positional/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });
});
