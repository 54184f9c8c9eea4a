import { donglesApi } from '../api/dongles';
import { usePolled } from '../ui/usePolled';

/** Nodes report a dongle as soon as they hear it; the Dongles pages ask this often, so it shows within as long. */
export const REFRESH_MS = 1500;

/** A scan request keeps the nodes scanning every 2–3 s for 30 s; asking every 20 s leaves no gap. */
const SCAN_MS = 20_000;
/** With no node online, ask more often, so that a node coming up starts scanning fast at once. */
const NO_NODE_MS = 5000;

/**
 * While a Dongles page is open and visible, the user's online nodes scan fast (spec 002 §10.3): asked at
 * once, again every 20 s, and on coming back to the tab. `data.nodes` is how many online nodes were asked.
 */
export function useFastScan() {
  return usePolled(
    () => donglesApi.scan(),
    (data) => (data?.nodes === 0 ? NO_NODE_MS : SCAN_MS),
  );
}
