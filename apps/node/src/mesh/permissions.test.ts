import { describe, expect, it } from 'vitest';
import { DEFAULT_GRANT, hasPermission } from './permissions';

describe('permission checks', () => {
  it('grants an exact permission', () => {
    expect(hasPermission(['files:write'], 'files:write')).toBe(true);
  });
  it('grants every action of an area through area:*', () => {
    expect(hasPermission(['media:*'], 'media:store')).toBe(true);
    expect(hasPermission(['media:*'], 'files:write')).toBe(false);
  });
  it('refuses what was not granted, and malformed names', () => {
    expect(hasPermission(['files:read'], 'files:write')).toBe(false);
    expect(hasPermission([], 'node:read')).toBe(false);
    expect(hasPermission(['*:*'], 'files:write')).toBe(false);
    expect(hasPermission(['files:write'], 'files')).toBe(false);
  });
  it('lets a freshly paired device check health, send files and unpair, but not run tasks', () => {
    expect(hasPermission(DEFAULT_GRANT, 'node:read')).toBe(true);
    expect(hasPermission(DEFAULT_GRANT, 'files:write')).toBe(true);
    expect(hasPermission(DEFAULT_GRANT, 'mesh:unpair')).toBe(true);
    expect(hasPermission(DEFAULT_GRANT, 'tasks:run')).toBe(false);
  });
});
