import type { Group } from '@canopy/protocol';
import { Facts } from '../ui/Facts';
import { formatFrames } from './groupText';

/** What the relay holds for a side that is offline or catching up (spec 002 §13.3.4–13.3.5). */
export function GroupBuffer({ group }: { group: Group }) {
  const { buffer } = group;
  return (
    <section className="section" aria-labelledby="group-buffer">
      <h2 id="group-buffer">Buffer</h2>
      <p className="muted">
        Frames waiting for a side that is offline or catching up: A → B waits for side B, B → A for side A.
        They are sent in order once that side is back.
      </p>
      {buffer.pressure && (
        <div className="alert alert-error" role="alert">
          The buffer is close to its limit (the number of frames it holds, or how long the oldest has waited).
          If the offline side doesn't come back soon, the oldest waiting frames will be dropped.
        </div>
      )}
      <Facts
        facts={[
          ['A → B', formatFrames(buffer.a_to_b)],
          ['B → A', formatFrames(buffer.b_to_a)],
        ]}
      />
    </section>
  );
}
