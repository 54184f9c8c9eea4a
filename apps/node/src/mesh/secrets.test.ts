import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenSealer } from './secrets';

describe('sealed peer tokens', () => {
  it('open with the same key and peer only', () => {
    const sealer = TokenSealer.withKey(randomBytes(32));
    const sealed = sealer.seal('cmt_secret', 'peer-1');
    expect(sealed).not.toContain('cmt_secret');
    expect(sealer.open(sealed, 'peer-1')).toBe('cmt_secret');
    expect(() => sealer.open(sealed, 'peer-2')).toThrow();
    expect(() => TokenSealer.withKey(randomBytes(32)).open(sealed, 'peer-1')).toThrow();
  });

  it('keep their data key in an encrypted file that reopens after a restart', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-mesh-key-'));
    try {
      const sealed = (await TokenSealer.open(home)).seal('cmt_x', 'p');
      expect(fs.existsSync(path.join(home, 'mesh-key.enc'))).toBe(true);
      expect((await TokenSealer.open(home)).open(sealed, 'p')).toBe('cmt_x');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
