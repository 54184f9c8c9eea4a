import type { CreateEnrollmentKeyResponse } from '@canopy/protocol';
import { useState } from 'react';
import { CreateKeyForm } from './CreateKeyForm';
import { InstallSteps } from './InstallSteps';
import { NewKeySecret } from './NewKeySecret';

/** Spec 000 §7: an enrollment key, then three commands to run on the new computer. */
export function AddNodeCard({ onKeyCreated }: { onKeyCreated: () => void }) {
  const [created, setCreated] = useState<CreateEnrollmentKeyResponse | null>(null);

  return (
    <section className="card add-node" aria-labelledby="add-node-title">
      <h2 id="add-node-title">Add a node</h2>
      <p className="muted">
        A node is a computer running canopy-node. Create an enrollment key, then run the three steps on that
        computer. It needs Node.js 20 or newer.
      </p>
      {created ? (
        <NewKeySecret created={created} onDismiss={() => setCreated(null)} />
      ) : (
        <CreateKeyForm
          onCreated={(result) => {
            setCreated(result);
            onKeyCreated();
          }}
        />
      )}
      <InstallSteps secret={created?.secret ?? null} />
    </section>
  );
}
