import { performance } from 'node:perf_hooks';
import type { BusFrame } from './ecu';
import {
  achievedRate,
  FrameSource,
  framesOwed,
  MAX_BATCH,
  plannedTotal,
  TICK_MS,
  type TrafficPlan,
} from './traffic';

export interface TrafficStatus {
  running: boolean;
  /** Why it stopped: all frames sent, or stopped through the control interface or a factory reset. */
  stoppedBy: 'done' | 'stop' | undefined;
  targetRate: number;
  planned: number | undefined;
  sent: number;
  elapsedMs: number;
  /** Frames per second reached (0 before two frames). */
  achievedRate: number;
}

const IDLE: TrafficStatus = {
  running: false,
  stoppedBy: undefined,
  targetRate: 0,
  planned: undefined,
  sent: 0,
  elapsedMs: 0,
  achievedRate: 0,
};

/** The timer shell around the generator's arithmetic: a tick every TICK_MS sends the frames owed. */
export class TrafficRunner {
  readonly #emit: (frame: BusFrame) => void;
  readonly #onDone: (status: TrafficStatus) => void;
  readonly #now: () => number;
  #run:
    | {
        plan: TrafficPlan;
        source: FrameSource;
        total: number | undefined;
        startedAt: number;
        lastSentMs: number;
        sent: number;
        timer: NodeJS.Timeout | undefined;
        stoppedBy: TrafficStatus['stoppedBy'];
        endedMs: number | undefined;
      }
    | undefined;

  constructor(
    emit: (frame: BusFrame) => void,
    onDone: (status: TrafficStatus) => void,
    now: () => number = () => performance.now(),
  ) {
    this.#emit = emit;
    this.#onDone = onDone;
    this.#now = now;
  }

  start(plan: TrafficPlan): TrafficStatus {
    this.stop();
    this.#run = {
      plan,
      source: new FrameSource(plan),
      total: plannedTotal(plan),
      startedAt: this.#now(),
      lastSentMs: 0,
      sent: 0,
      timer: undefined,
      stoppedBy: undefined,
      endedMs: undefined,
    };
    this.#run.timer = setInterval(() => this.#tick(), TICK_MS);
    this.#tick();
    return this.status();
  }

  stop(): TrafficStatus {
    const run = this.#run;
    if (run?.timer !== undefined) this.#finish('stop');
    return this.status();
  }

  status(): TrafficStatus {
    const run = this.#run;
    if (run === undefined) return { ...IDLE };
    return {
      running: run.timer !== undefined,
      stoppedBy: run.stoppedBy,
      targetRate: run.plan.rate,
      planned: run.total,
      sent: run.sent,
      elapsedMs: Math.round(run.endedMs ?? this.#now() - run.startedAt),
      achievedRate: Math.round(achievedRate(run.sent, run.lastSentMs)),
    };
  }

  #tick(): void {
    const run = this.#run;
    if (run === undefined || run.timer === undefined) return;
    const elapsed = this.#now() - run.startedAt;
    const owed = framesOwed(elapsed, run.plan.rate, run.sent, run.total, MAX_BATCH);
    for (let i = 0; i < owed; i++) this.#emit(run.source.next());
    if (owed > 0) {
      run.sent += owed;
      run.lastSentMs = elapsed;
    }
    if (run.total !== undefined && run.sent >= run.total) this.#finish('done');
  }

  #finish(stoppedBy: 'done' | 'stop'): void {
    const run = this.#run;
    if (run === undefined || run.timer === undefined) return;
    clearInterval(run.timer);
    run.timer = undefined;
    run.stoppedBy = stoppedBy;
    run.endedMs = this.#now() - run.startedAt;
    this.#onDone(this.status());
  }
}
