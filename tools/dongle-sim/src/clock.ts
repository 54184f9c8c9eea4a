/** Milliseconds since the epoch. Injected everywhere time matters, so that a test can move time without sleeping. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Whole seconds left until `endsAt` (rounded up, never negative): what a dongle puts in a `seconds` field. */
export const secondsUntil = (endsAt: number, now: number) => Math.max(0, Math.ceil((endsAt - now) / 1000));
