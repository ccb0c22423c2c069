// How often the dashboard asks the API again.
//
// While a store is provisioning or deleting, its status will change by itself,
// so the dashboard polls quickly at first and backs off the longer nothing
// changes (a WooCommerce store takes minutes; polling every 2 s for ten
// minutes would be wasteful). When nothing is in flight, it still polls
// slowly so stores created from another tab or the CLI show up.
// Any change resets the interval to the fast end.

export const BUSY_MIN_MS = 2_000;
export const BUSY_MAX_MS = 15_000;
export const IDLE_MIN_MS = 30_000;
export const IDLE_MAX_MS = 120_000;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * @param busy some store is provisioning or deleting
 * @param msSinceChange how long the data has stayed the same
 */
export function nextPollInterval(busy: boolean, msSinceChange: number): number {
  const quiet = Math.max(0, msSinceChange);
  // A quarter of the quiet time: after 1 min unchanged, poll every 15 s.
  return busy ? clamp(quiet / 4, BUSY_MIN_MS, BUSY_MAX_MS) : clamp(quiet / 4, IDLE_MIN_MS, IDLE_MAX_MS);
}
