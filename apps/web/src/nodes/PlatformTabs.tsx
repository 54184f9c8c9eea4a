import { type KeyboardEvent, useRef } from 'react';
import { PLATFORMS, type Platform } from './install';

interface PlatformTabsProps {
  selected: Platform;
  onSelect: (platform: Platform) => void;
  panelId: string;
}

/** Linux / macOS / Windows tabs; arrow keys move between them, as in any tab list. */
export function PlatformTabs({ selected, onSelect, panelId }: PlatformTabsProps) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});

  function onKeyDown(event: KeyboardEvent) {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const index = PLATFORMS.findIndex((platform) => platform.id === selected);
    const next = PLATFORMS[(index + step + PLATFORMS.length) % PLATFORMS.length];
    if (!next) return;
    onSelect(next.id);
    refs.current[next.id]?.focus();
  }

  return (
    <div className="tabs" role="tablist" aria-label="Your computer's system" onKeyDown={onKeyDown}>
      {PLATFORMS.map((platform) => {
        const active = platform.id === selected;
        return (
          <button
            key={platform.id}
            ref={(element) => {
              refs.current[platform.id] = element;
            }}
            id={`tab-${platform.id}`}
            type="button"
            role="tab"
            className="tab"
            aria-selected={active}
            aria-controls={panelId}
            tabIndex={active ? 0 : -1}
            onClick={() => onSelect(platform.id)}
          >
            {platform.label}
          </button>
        );
      })}
    </div>
  );
}
