import { hkdfSync } from 'node:crypto';
import { type KeyLookup, type MasterKey, open, seal } from '../keys/envelope';

/** A dongle request as it crosses the stream engine between instances: sealed, bound to its agent and id. */
export type SealedSignal = { v: number; n: string; c: string };

export interface SignalSealer {
  seal(agentId: string, requestId: string, plaintext: Buffer): SealedSignal;
  /** Throws (a KeyError) on a record that was tampered with, or sealed for another agent or request. */
  open(agentId: string, requestId: string, sealed: SealedSignal): Buffer;
}

/**
 * Dongle requests carry tokens and PINs, and go from the instance that takes the API call to the one that
 * holds the node's connection through Redis pub/sub: they are sealed with AES-256-GCM under a key derived
 * (HKDF) from the newest dongle-token master key, which every instance holds, so that Redis never sees them.
 */
export function signalSealer(keyring: KeyLookup & { newest: MasterKey }): SignalSealer {
  const derived = new Map<number, MasterKey>();
  const lookup: KeyLookup = {
    get(version) {
      let key = derived.get(version);
      if (!key) {
        const master = keyring.get(version);
        if (!master) return undefined;
        const bytes = Buffer.from(
          hkdfSync('sha256', master.bytes, Buffer.alloc(0), 'canopy/hub-signal/v1', 32),
        );
        key = { version, bytes };
        derived.set(version, key);
      }
      return key;
    },
  };
  const aad = (agentId: string, requestId: string) => ({
    dongleId: `hub-signal:${requestId}`,
    userId: agentId,
    createdAt: new Date(0),
  });
  return {
    seal(agentId, requestId, plaintext) {
      const s = seal(plaintext, lookup.get(keyring.newest.version) as MasterKey, aad(agentId, requestId));
      return { v: s.keyVersion, n: s.nonce.toString('base64'), c: s.ciphertext.toString('base64') };
    },
    open(agentId, requestId, sealed) {
      const record = {
        keyVersion: sealed.v,
        nonce: Buffer.from(sealed.n, 'base64'),
        ciphertext: Buffer.from(sealed.c, 'base64'),
      };
      return open(record, lookup, aad(agentId, requestId));
    },
  };
}
