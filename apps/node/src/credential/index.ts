export { CredentialError, KeychainUnreachableError } from './errors';
export {
  type KeychainEntry,
  type KeychainFactory,
  keychainAccount,
  osKeychain,
  probeKeychain,
} from './keychain';
export {
  type CredentialOptions,
  deleteToken,
  describeStore,
  loadToken,
  type StorePreference,
  saveToken,
  writeToken,
} from './store';
export { KEYCHAIN_RETRY, waitForKeychain } from './wait';
