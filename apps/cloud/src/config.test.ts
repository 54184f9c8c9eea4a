import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives the embedded defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:8080',
      databaseUrl: undefined,
      redisUrl: undefined,
      sessionTtlMs: 7 * 24 * 3600_000,
      rateLimits: { login: 10, signup: 5, passwordReset: 3 },
    });
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).port).toBe(8080);
  });

  it('names every bad variable and hides passwords in URLs', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: '99999',
        REDIS_URL: 'http://x',
        DATABASE_URL: 'postgres://u:s3cret@@',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT: /m);
    expect(problems).toMatch(/^REDIS_URL: must be a URL starting with redis: or rediss:/m);
    expect(problems).toMatch(/^LOG_LEVEL: /m);
    expect(problems).toMatch(/^DATABASE_URL: /m);
    expect(problems).not.toContain('s3cret');
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash from an explicit one', () => {
    expect(loadConfig({ PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
    expect(loadConfig({ PUBLIC_URL: 'https://canopy.example.com/' }).publicUrl).toBe(
      'https://canopy.example.com',
    );
  });

  it('reads the ops settings and never echoes a bad METRICS_TOKEN', () => {
    const config = loadConfig({ METRICS_TOKEN: 'x'.repeat(20), BACKUP_DIR: '/srv/backups' });
    expect(config.metricsToken).toBe('x'.repeat(20));
    expect(config.backupDir).toBe('/srv/backups');
    expect(loadConfig({}).backupDir).toBe('/var/backups/canopy');
    expect(loadConfig({}).metricsToken).toBeUndefined();
    try {
      loadConfig({ METRICS_TOKEN: 'short-secret' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('METRICS_TOKEN');
      expect((err as Error).message).not.toContain('short-secret');
    }
  });
});
