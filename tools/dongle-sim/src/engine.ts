/*
 * A small, deterministic engine model: what the virtual ECU reports, as a pure function of the time since the
 * engine started. A 90 s drive cycle (idle, accelerate to ~90 km/h, back to idle), a coolant that warms up
 * towards 90 °C, a fuel tank that slowly empties. Values move smoothly, so two readings close in time are
 * close in value.
 */

export interface EngineReadings {
  coolantC: number;
  rpm: number;
  speedKmh: number;
  intakeC: number;
  throttlePct: number;
  runTimeS: number;
  fuelPct: number;
  ambientC: number;
}

const AMBIENT_C = 21;
const CYCLE_S = 90;
const TOP_SPEED_KMH = 90;
const IDLE_RPM = 800;
const RPM_PER_KMH = 30;
const WARM_C = 90;
const WARM_UP_S = 240;
const FUEL_START_PCT = 72;
const FUEL_PER_S = 0.005;

export function engineAt(elapsedMs: number): EngineReadings {
  const t = Math.max(0, elapsedMs) / 1000;
  const phase = (2 * Math.PI * t) / CYCLE_S;
  const speedKmh = (TOP_SPEED_KMH / 2) * (1 - Math.cos(phase));
  // Accelerating takes throttle; the sine is the speed's derivative over the cycle.
  const accelerating = Math.max(0, Math.sin(phase));
  const coolantC = AMBIENT_C + (WARM_C - AMBIENT_C) * (1 - Math.exp(-t / WARM_UP_S));
  return {
    coolantC,
    rpm: IDLE_RPM + speedKmh * RPM_PER_KMH,
    speedKmh,
    intakeC: AMBIENT_C + 8 + (coolantC - AMBIENT_C) * 0.15,
    throttlePct: Math.min(100, 12 + speedKmh * 0.25 + accelerating * 30),
    runTimeS: Math.floor(t),
    fuelPct: Math.max(5, FUEL_START_PCT - t * FUEL_PER_S),
    ambientC: AMBIENT_C,
  };
}
