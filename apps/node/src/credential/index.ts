export { CredentialError } from './errors';
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
