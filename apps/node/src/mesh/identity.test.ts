import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultNodeName, identityFile, loadOrCreateIdentity, uuidv7 } from './identity';

const dirs: string[] = [];
const home = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-mesh-id-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('node identity', () => {
  it('makes version-7 UUIDs that sort by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(a.replace(/-/g, '').slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });

  it('is created once and read back unchanged', () => {
    const h = home();
    const first = loadOrCreateIdentity(h, { now: 1_700_000_000_000 });
    expect(first.name).toBe(defaultNodeName());
    expect(first.created_at).toBe('2023-11-14T22:13:20.000Z');
    expect(loadOrCreateIdentity(h)).toEqual(first);
    expect(JSON.parse(fs.readFileSync(identityFile(h), 'utf8')).id).toBe(first.id);
  });

  it("takes the cloud's node id when the node is set up", () => {
    expect(loadOrCreateIdentity(home(), { cloudNodeId: 'cloud-id-1' }).id).toBe('cloud-id-1');
  });

  it('names the node after the host', () => {
    expect(defaultNodeName('studio.local')).toBe('studio');
    expect(defaultNodeName('')).toBe('Canopy node');
  });
});
