import { useId } from "react";
import type { Store } from "../api/types";
import { formatDuration } from "../lib/time";

// A plain SVG bar chart: a dozen bars do not justify a charting library.
// The numbers are also in a visually hidden table for screen readers.

const MAX_BARS = 12;
const BAR = 22;
const GAP = 8;
const LABEL_WIDTH = 110;
const WIDTH = 360;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? 0;
  return sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

function shorten(name: string): string {
  return name.length > 14 ? `${name.slice(0, 13)}…` : name;
}

export function ProvisioningChart({ stores }: { stores: Store[] }) {
  const captionId = useId();
  const timed = stores
    .filter((s): s is Store & { provisioning_seconds: number } => s.provisioning_seconds !== null)
    .slice(0, MAX_BARS)
    .reverse(); // oldest at the top, newest at the bottom
  if (timed.length === 0) {
    return (
      <p className="text-sm text-slate-600">
        No provisioning times yet: a store's time appears here once it is ready.
      </p>
    );
  }
  const longest = Math.max(...timed.map((s) => s.provisioning_seconds), 1);
  const mid = median(timed.map((s) => s.provisioning_seconds));
  const height = timed.length * (BAR + GAP);
  const plot = WIDTH - LABEL_WIDTH - 70;

  return (
    <figure className="space-y-2">
      <figcaption id={captionId} className="text-sm text-slate-700">
        Time from request to ready for your last {timed.length} ready {timed.length === 1 ? "store" : "stores"}
        {mid !== null && <> · median {formatDuration(mid)}</>}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} className="w-full max-w-xl" role="img" aria-labelledby={captionId}>
        {timed.map((store, i) => {
          const y = i * (BAR + GAP);
          const w = Math.max(2, (store.provisioning_seconds / longest) * plot);
          return (
            <g key={store.id}>
              <title>{`${store.name}: ${formatDuration(store.provisioning_seconds)}`}</title>
              <text x={LABEL_WIDTH - 6} y={y + BAR * 0.7} textAnchor="end" className="fill-slate-700 text-[11px]">
                {shorten(store.name)}
              </text>
              <rect x={LABEL_WIDTH} y={y} width={w} height={BAR} rx={3} className="fill-indigo-600" />
              <text x={LABEL_WIDTH + w + 6} y={y + BAR * 0.7} className="fill-slate-900 text-[11px]">
                {formatDuration(store.provisioning_seconds)}
              </text>
            </g>
          );
        })}
      </svg>
      {/* A table ignores width: 1px, so the wrapper is what gets hidden. */}
      <div className="sr-only">
      <table>
        <caption>Provisioning time per store</caption>
        <thead>
          <tr>
            <th scope="col">Store</th>
            <th scope="col">Provisioning time</th>
          </tr>
        </thead>
        <tbody>
          {timed.map((store) => (
            <tr key={store.id}>
              <td>{store.name}</td>
              <td>{formatDuration(store.provisioning_seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
