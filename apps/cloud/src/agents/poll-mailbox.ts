import type { DongleRequestMessage } from '@canopy/protocol';
import type { Unsubscribe } from '../engine';
import type { AgentHub } from './hub';

/** A request older than this has already timed out at its caller (the dongle RPC waits 8 s). */
const REQUEST_TTL_MS = 8000;
/** At most this many requests wait for one polling node; older ones go first. */
const MAX_WAITING = 32;
/** The hub subscription outlives a poll by this much, so a request arriving between two polls waits. */
export const MAILBOX_GRACE_MS = 30_000;

type Box = {
  requests: Array<{ message: DongleRequestMessage; at: number }>;
  wakers: Set<() => void>;
  unsubscribe: Promise<Unsubscribe>;
  polls: number;
  idle?: NodeJS.Timeout;
};

/**
 * Long polls on this instance (spec 000 §1 fallback): what wakes a waiting poll, and the dongle requests
 * (dongle_request signals) of nodes that poll instead of holding a WebSocket — kept from a node's first poll
 * until MAILBOX_GRACE_MS after its last, so that one arriving between two polls is handed to the next.
 */
export class PollMailboxes {
  private readonly boxes = new Map<string, Box>();

  constructor(
    private readonly hub: AgentHub,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Waits up to `ms` (or until `aborted` fires) for a wake, scan or revoke signal or a dongle request; returns
   * the dongle requests waiting, which are handed over once. `hasWork` skips the wait when there is already
   * something to answer.
   */
  async poll(agentId: string, ms: number, aborted: (stop: () => void) => () => void, hasWork: boolean) {
    const box = this.open(agentId);
    box.polls += 1;
    try {
      await box.unsubscribe;
      if (!hasWork && this.fresh(box).length === 0 && ms > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, ms);
          const off = aborted(done);
          box.wakers.add(done);
          function done() {
            clearTimeout(timer);
            off();
            box.wakers.delete(done);
            resolve();
          }
        });
      }
      const requests = this.fresh(box).map((r) => r.message);
      box.requests = [];
      return requests;
    } finally {
      box.polls -= 1;
      if (box.polls === 0) this.closeLater(agentId, box);
    }
  }

  /** Drops every subscription (at shutdown). */
  async close(): Promise<void> {
    const boxes = [...this.boxes.values()];
    this.boxes.clear();
    for (const box of boxes) {
      clearTimeout(box.idle);
      for (const wake of [...box.wakers]) wake();
      await (await box.unsubscribe)();
    }
  }

  private open(agentId: string): Box {
    const box = this.boxes.get(agentId);
    if (box) {
      clearTimeout(box.idle);
      return box;
    }
    const created: Box = {
      requests: [],
      wakers: new Set(),
      polls: 0,
      unsubscribe: Promise.resolve(async () => {}),
    };
    created.unsubscribe = this.hub.listen(agentId, (signal) => {
      if (signal.kind === 'dongle_request') {
        created.requests.push({ message: signal.message, at: this.now() });
        if (created.requests.length > MAX_WAITING) created.requests.shift();
      } else if (signal.kind !== 'wake' && signal.kind !== 'revoked' && signal.kind !== 'scan') {
        return;
      }
      for (const wake of [...created.wakers]) wake();
    });
    this.boxes.set(agentId, created);
    return created;
  }

  private fresh(box: Box) {
    const since = this.now() - REQUEST_TTL_MS;
    box.requests = box.requests.filter((r) => r.at > since);
    return box.requests;
  }

  private closeLater(agentId: string, box: Box): void {
    clearTimeout(box.idle);
    box.idle = setTimeout(() => {
      if (box.polls > 0 || this.boxes.get(agentId) !== box) return;
      this.boxes.delete(agentId);
      void box.unsubscribe.then((off) => off());
    }, MAILBOX_GRACE_MS);
    box.idle.unref();
  }
}
