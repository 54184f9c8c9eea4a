import { describe, expect, it } from 'vitest';
import { HandshakeGate } from './handshake-gate';

/** A unit of work the test finishes by hand. */
function pending() {
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('HandshakeGate', () => {
  it('runs at most `limit` at once and starts the waiting ones in arrival order', async () => {
    const gate = new HandshakeGate(2, 100);
    const started: number[] = [];
    const works = Array.from({ length: 5 }, () => pending());
    const runs = works.map((work, i) =>
      gate.run(async () => {
        started.push(i);
        await work.promise;
        return i;
      }),
    );
    const firstOutcome = runs[0]?.catch((err: Error) => err.message);
    await tick();
    expect(started).toEqual([0, 1]);
    expect(gate.queued).toBe(3);

    works[1]?.finish();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    works[0]?.fail(new Error('refused'));
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    await expect(firstOutcome).resolves.toBe('refused');
    await expect(runs[1]).resolves.toBe(1);

    works[2]?.finish();
    works[3]?.finish();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    works[4]?.finish();
    await expect(Promise.all(runs.slice(2))).resolves.toEqual([2, 3, 4]);
    expect(gate.queued).toBe(0);

    // All slots free again: two start at once.
    const more = [pending(), pending()];
    const order: number[] = [];
    const again = more.map((work, i) =>
      gate.run(async () => {
        order.push(i);
        await work.promise;
      }),
    );
    await tick();
    expect(order).toEqual([0, 1]);
    for (const work of more) work.finish();
    await Promise.all(again);
  });

  it('has room until `maxQueued` wait behind a full set of slots', async () => {
    const gate = new HandshakeGate(1, 2);
    const work = pending();
    expect(gate.hasRoom).toBe(true);
    const runs = [gate.run(() => work.promise)];
    expect(gate.hasRoom).toBe(true);
    runs.push(gate.run(() => work.promise));
    runs.push(gate.run(() => work.promise));
    await tick();
    expect(gate.queued).toBe(2);
    expect(gate.hasRoom).toBe(false);
    work.finish();
    await Promise.all(runs);
    expect(gate.hasRoom).toBe(true);
  });
});
