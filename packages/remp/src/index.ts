export { toHex } from './bytes';
export {
  type AllowedCommand,
  CLI_ALLOWLIST,
  CLI_CHUNK_BYTES,
  CLI_OUTPUT_CAP,
  CliAssembler,
  type CliResult,
  isAllowedCommand,
  splitCliOutput,
} from './cli';
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
export * from './remp';
export type { Decoded, RempError, RempErrorCode } from './result';
