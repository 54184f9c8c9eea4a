export { fingerprint } from './fingerprint';
export { describeOs, type HostInfo, hostInfo, networkSummary } from './host';
export { FALLBACK_ID_FILE, type MachineIdSources, machineId } from './machine-id';
export { AlreadyRunningError, acquirePidFile, runningPid } from './pid-file';
export { VERSION } from './version';
