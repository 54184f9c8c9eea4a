import { describe, expect, it } from 'vitest';
import { dataWsUrl } from './url';

describe('dataWsUrl', () => {
  it('turns the cloud URL into its /ws/data WebSocket URL', () => {
    expect(dataWsUrl('http://localhost:8080')).toBe('ws://localhost:8080/ws/data');
    expect(dataWsUrl('https://canopy.example.com/base/')).toBe('wss://canopy.example.com/base/ws/data');
  });

  it('keeps no query, fragment or credentials of the cloud URL', () => {
    expect(dataWsUrl('https://user:pw@canopy.example.com/?x=1#y')).toBe('wss://canopy.example.com/ws/data');
  });
});
