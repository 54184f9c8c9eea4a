import { useState } from 'react';
import { CodeBlock } from '../ui/CodeBlock';
import { InlineCode } from '../ui/InlineCode';
import { detectPlatform, installSteps } from './install';
import { PlatformTabs } from './PlatformTabs';

const PANEL_ID = 'install-steps';

/** The three commands to run on the new node, for the platform this browser seems to run on. */
export function InstallSteps({ secret }: { secret: string | null }) {
  const [platform, setPlatform] = useState(() => detectPlatform(navigator.userAgent));
  const steps = installSteps(platform, window.location.origin, secret);

  return (
    <div className="install">
      <PlatformTabs selected={platform} onSelect={setPlatform} panelId={PANEL_ID} />
      <div id={PANEL_ID} role="tabpanel" aria-labelledby={`tab-${platform}`}>
        <ol className="steps">
          {steps.map((step, index) => (
            <li key={step.title} className="step">
              <h3>
                <span className="step-number" aria-hidden="true">
                  {index + 1}
                </span>
                <span className="visually-hidden">Step {index + 1}: </span>
                {step.title}
              </h3>
              <CodeBlock code={step.command} label={`Step ${index + 1} command`} />
              <p className="step-note">
                <InlineCode text={step.note} />
              </p>
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}
