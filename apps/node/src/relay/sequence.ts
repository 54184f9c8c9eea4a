/*
 * The receiving side's view of the cloud's numbering (spec 002 §13.3.7): frames of one direction carry a seq
 * (from 1) within an epoch. Whatever follows the last accepted frame is written; repeats (seq ≤ last, as after
 * a reconnect that resumes from the last ACK) are dropped; a jump forward is reported once and the numbering
 * carries on from there; a new epoch (the cloud lost its buffer) starts again at 1. Pure: no I/O, no time.
 */

export type Position = { epoch: number; seq: number };

export type Verdict =
  /** Write frames [skip, count) of the batch; `gap` and `newEpoch` say what to report or log first. */
  | {
      kind: 'write';
      skip: number;
      gap: { epoch: number; expected: number; got: number } | null;
      newEpoch: { from: number; to: number } | null;
    }
  /** Every frame of the batch was accepted before. */
  | { kind: 'repeat' }
  /** The batch does not fit in `room`; nothing changed (a later batch will show the gap). */
  | { kind: 'refused' };

export class InboundSequence {
  #epoch: number;
  #last: number;
  readonly counts = { duplicates: 0, gaps: 0, missing: 0, epochs: 0, refused: 0 };

  /** `resume`: the last frame the cloud knows was written ({0, 0}: none). */
  constructor(resume: Position) {
    this.#epoch = resume.epoch;
    this.#last = resume.seq;
  }

  /** The last accepted frame. */
  get position(): Position {
    return { epoch: this.#epoch, seq: this.#last };
  }

  /** Decides on a batch of `count` frames numbered firstSeq, firstSeq + 1, …; accepts it unless refused. */
  accept(epoch: number, firstSeq: number, count: number, room = Number.POSITIVE_INFINITY): Verdict {
    if (count <= 0) return { kind: 'repeat' };
    const newEpoch = epoch !== this.#epoch;
    const last = newEpoch ? 0 : this.#last;
    const end = firstSeq + count - 1;
    if (end <= last) {
      this.counts.duplicates += count;
      return { kind: 'repeat' };
    }
    const skip = Math.max(0, last + 1 - firstSeq);
    if (count - skip > room) {
      this.counts.refused += count - skip;
      return { kind: 'refused' };
    }
    const gap = firstSeq > last + 1 ? { epoch, expected: last + 1, got: firstSeq } : null;
    const verdict: Verdict = {
      kind: 'write',
      skip,
      gap,
      newEpoch: newEpoch ? { from: this.#epoch, to: epoch } : null,
    };
    this.counts.duplicates += skip;
    if (gap) {
      this.counts.gaps += 1;
      this.counts.missing += gap.got - gap.expected;
    }
    if (newEpoch) this.counts.epochs += 1;
    this.#epoch = epoch;
    this.#last = end;
    return verdict;
  }
}
