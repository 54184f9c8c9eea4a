export type { Clock } from './clock';
export { systemClock } from './clock';
export { CloudRequestError } from './http';
export type { LinkEvents, LinkOptions, LinkStatus, LinkWelcome } from './link';
export { Link, LinkStoppedError } from './link';
export type { LinkState } from './state-machine';
