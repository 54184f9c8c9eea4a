export { crc32 } from './crc32';
export {
  type Announce,
  DISCOVERY_PORT,
  DISCOVERY_PROTO,
  type DiscoveryMessage,
  decodeDiscovery,
  encodeDiscovery,
  HEADER_LEN,
  LEGACY_HEADER_LEN,
} from './discovery';
export type { Decoded, RempError, RempErrorCode } from './result';
