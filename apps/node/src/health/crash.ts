import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/**
 * How many unhandled promise rejections the daemon tolerates: one is logged and survived (spec 000 §4), but
 * more than `limit` within `windowMs` means something is broken in a loop, and exiting so the service
 * manager restarts a clean process is better than running on in that state. Default: more than 5 in 60 s.
 */
export class RejectionBudget {
  private times: number[] = [];

  constructor(
    readonly limit = 5,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one rejection; true when the budget is exceeded. */
  record(): boolean {
    const t = this.now();
    this.times = this.times.filter((at) => t - at < this.windowMs);
    this.times.push(t);
    return this.times.length > this.limit;
  }

  get count(): number {
    return this.times.length;
  }
}

export interface CrashHandlerOptions {
  log: Logger;
  /** Makes sure the log lines so far are on disk. */
  flush: () => void;
  /** Says goodbye to the cloud and closes what it can; must be bounded (the daemon gives it 2 s). */
  shutdown: () => Promise<void>;
  exit: (code: number) => void;
  budget?: RejectionBudget;
  /** The process; tests pass an EventEmitter. */
  target?: EventEmitter;
  /** Exit even if shutdown hangs after this long. */
  backstopMs?: number;
}

/**
 * spec 000 §4: an uncaught exception is logged as fatal, the logs flushed, the link closed, and the
 * process exits 1 so its service manager restarts it. An unhandled rejection is logged as an error and
 * survived, unless the RejectionBudget trips. Returns a function that removes the handlers.
 */
export function handleCrashes(options: CrashHandlerOptions): () => void {
  const target = options.target ?? process;
  const budget = options.budget ?? new RejectionBudget();
  let dying = false;
  const die = () => {
    if (dying) return;
    dying = true;
    options.flush();
    const backstop = setTimeout(() => options.exit(1), options.backstopMs ?? 5000);
    void options
      .shutdown()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(backstop);
        options.flush();
        options.exit(1);
      });
  };
  const onUncaught = (err: Error) => {
    options.log.fatal({ err }, 'uncaught exception: exiting so the service manager can restart canopy-node');
    die();
  };
  const onRejection = (reason: unknown) => {
    options.log.error({ err: reason }, 'unhandled promise rejection');
    if (budget.record()) {
      options.log.fatal(
        { count: budget.count, windowMs: budget.windowMs },
        `more than ${budget.limit} unhandled rejections within ${budget.windowMs / 1000} s: exiting so the service manager can restart canopy-node`,
      );
      die();
    }
  };
  target.on('uncaughtException', onUncaught);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onUncaught);
    target.off('unhandledRejection', onRejection);
  };
}
