import { describe, expect, it } from 'vitest';
import { pgConnectionEnv } from './pg-env';

describe('pgConnectionEnv', () => {
  it('splits a URL into libpq variables, the password only in PGPASSWORD', () => {
    expect(
      pgConnectionEnv('postgres://canopy:s3cr%40t%3A@db.internal:6543/canopy_prod?sslmode=require'),
    ).toEqual({
      PGHOST: 'db.internal',
      PGPORT: '6543',
      PGUSER: 'canopy',
      PGPASSWORD: 's3cr@t:',
      PGDATABASE: 'canopy_prod',
      PGSSLMODE: 'require',
    });
  });

  it('leaves out what the URL does not say (libpq defaults then apply)', () => {
    expect(pgConnectionEnv('postgresql://postgres@127.0.0.1/test')).toEqual({
      PGHOST: '127.0.0.1',
      PGUSER: 'postgres',
      PGDATABASE: 'test',
    });
  });

  it('reads IPv6 hosts and a Unix socket folder', () => {
    expect(pgConnectionEnv('postgres://u@[::1]:5432/d').PGHOST).toBe('::1');
    expect(pgConnectionEnv('postgres://u@localhost/d?host=/run/postgresql').PGHOST).toBe('/run/postgresql');
  });
});
