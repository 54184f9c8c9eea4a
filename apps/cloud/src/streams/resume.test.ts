import { describe, expect, it } from 'vitest';
import { resumeProblem } from './resume';

const info = { length: 3, firstId: '100-0', lastId: '102-4' };

describe('resumeProblem', () => {
  it('resumes from any id between the oldest and the newest entry kept', () => {
    for (const id of ['100-0', '101-7', '102-4', '102']) expect(resumeProblem(id, info)).toBeNull();
  });

  it('says too_old for an id before the oldest entry kept', () => {
    expect(resumeProblem('99-9', info)).toMatchObject({
      reason: 'too_old',
      last_event_id: '99-9',
      oldest_id: '100-0',
      newest_id: '102-4',
    });
  });

  it('says unknown_id for a newer id, a malformed one, or an empty stream', () => {
    expect(resumeProblem('102-5', info)?.reason).toBe('unknown_id');
    expect(resumeProblem('hello', info)?.reason).toBe('unknown_id');
    expect(resumeProblem('100-0', { length: 0, firstId: null, lastId: null })?.reason).toBe('unknown_id');
    expect(resumeProblem('x'.repeat(500), info)?.last_event_id).toHaveLength(64);
  });
});
