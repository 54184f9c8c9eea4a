import { formatCount } from './consoleText';
import { sparkline } from './rate';

const WIDTH = 120;
const HEIGHT = 28;

/** Frames a second over the last minute, as they arrived here: a line, oldest on the left. */
export function Sparkline({ series }: { series: number[] }) {
  const { line, area, max } = sparkline(series, WIDTH, HEIGHT);
  const label = `Frames a second over the last minute; at most ${formatCount(max)}`;
  return (
    <svg
      className="sparkline"
      width={WIDTH}
      height={HEIGHT}
      viewBox={`0 -1 ${WIDTH} ${HEIGHT + 2}`}
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <polygon points={area} className="sparkline-area" />
      <polyline points={line} className="sparkline-line" />
    </svg>
  );
}
