import { FieldShell } from '../ui/FieldShell';
import { WAY_CHOICES } from './consoleText';
import type { WayFilter } from './filter';
import type { ConsoleSource } from './model';

interface ConsoleToolbarProps {
  kind: ConsoleSource['kind'];
  ids: string;
  idsProblem: string | null;
  way: WayFilter;
  paused: boolean;
  onIds: (text: string) => void;
  onWay: (way: WayFilter) => void;
  onPause: () => void;
  onResume: () => void;
}

/** Filters (CAN ids as text, one direction) and pause/resume. */
export function ConsoleToolbar(props: ConsoleToolbarProps) {
  const { kind, ids, idsProblem, way, paused } = props;
  const prefix = `console-${kind}`;
  return (
    <div className="console-toolbar">
      <FieldShell
        id={`${prefix}-ids`}
        label="CAN ids"
        hint="e.g. 7E8, 7DF or 7E8-7EF"
        error={idsProblem ?? undefined}
      >
        {(aria) => (
          <input
            {...aria}
            id={`${prefix}-ids`}
            className="input-mono"
            value={ids}
            placeholder="All ids"
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => props.onIds(event.target.value)}
          />
        )}
      </FieldShell>
      <FieldShell id={`${prefix}-way`} label="Direction">
        {(aria) => (
          <select
            {...aria}
            id={`${prefix}-way`}
            value={way}
            onChange={(event) => props.onWay(event.target.value as WayFilter)}
          >
            {WAY_CHOICES[kind].map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        )}
      </FieldShell>
      <button
        type="button"
        className={paused ? 'button console-pause' : 'button button-secondary console-pause'}
        aria-pressed={paused}
        onClick={paused ? props.onResume : props.onPause}
      >
        {paused ? 'Resume' : 'Pause'}
      </button>
    </div>
  );
}
