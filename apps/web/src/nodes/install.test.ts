import { describe, expect, it } from 'vitest';
import { detectPlatform, installSteps, KEY_PLACEHOLDER } from './install';

describe('detectPlatform', () => {
  it('recognises Windows, macOS and Linux browsers', () => {
    expect(detectPlatform('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0')).toBe(
      'windows',
    );
    expect(
      detectPlatform('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari'),
    ).toBe('macos');
    expect(detectPlatform('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(
      'linux',
    );
  });

  it('falls back to Linux for anything else', () => {
    expect(detectPlatform('')).toBe('linux');
  });
});

describe('installSteps', () => {
  const origin = 'https://canopy.example.com';

  it('fills in the enrollment key and the cloud address', () => {
    const [install, setup, run] = installSteps('linux', origin, 'cnp_abc123');
    expect(install?.command).toBe('npm install -g https://canopy.example.com/downloads/canopy-node.tgz');
    expect(setup?.command).toBe('canopy-node setup cnp_abc123 --cloud https://canopy.example.com');
    expect(run?.command).toBe('canopy-node install');
    expect(run?.note).toContain('enable-linger');
  });

  it('shows a placeholder until a key exists', () => {
    expect(installSteps('windows', origin, null)[1]?.command).toContain(KEY_PLACEHOLDER);
  });

  it('uses the same commands in PowerShell', () => {
    const commands = (platform: 'linux' | 'windows') =>
      installSteps(platform, origin, 'cnp_x').map((step) => step.command);
    expect(commands('windows')).toEqual(commands('linux'));
  });
});
