export * from './admin';
export * from './agents';
export * from './auth';
export * from './dongles';
export * from './errors';
export * from './groups';
export * from './health';
export * from './streams';
