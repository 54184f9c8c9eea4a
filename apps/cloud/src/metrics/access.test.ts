import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { metricsAccess } from './access';

const req = (remoteAddress: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

describe('who may read /metrics', () => {
  it('without a token: direct loopback requests only', () => {
    expect(metricsAccess(req('127.0.0.1'), undefined)).toBe('allowed');
    expect(metricsAccess(req('::1'), undefined)).toBe('allowed');
    expect(metricsAccess(req('::ffff:127.0.0.1'), undefined)).toBe('allowed');
    expect(metricsAccess(req('10.0.0.5'), undefined)).toBe('hidden');
  });

  it('without a token: refuses a request that came through a proxy on loopback', () => {
    expect(metricsAccess(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }), undefined)).toBe('hidden');
    expect(metricsAccess(req('127.0.0.1', { 'x-real-ip': '203.0.113.9' }), undefined)).toBe('hidden');
    expect(metricsAccess(req('127.0.0.1', { forwarded: 'for=203.0.113.9' }), undefined)).toBe('hidden');
  });

  it('with a token: the right bearer token from anywhere, nothing else', () => {
    const token = 'a-metrics-token-0123456789';
    expect(metricsAccess(req('10.0.0.5', { authorization: `Bearer ${token}` }), token)).toBe('allowed');
    expect(metricsAccess(req('127.0.0.1'), token)).toBe('auth_required');
    expect(metricsAccess(req('127.0.0.1', { authorization: 'Bearer wrong' }), token)).toBe('auth_required');
    expect(metricsAccess(req('127.0.0.1', { authorization: `Basic ${token}` }), token)).toBe('auth_required');
  });
});
