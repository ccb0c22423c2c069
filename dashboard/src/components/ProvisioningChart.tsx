import { useId } from "react";
import type { Store } from "../api/types";
import { formatDuration } from "../lib/time";

// A plain bar chart: a dozen bars do not justify a charting library.
// The numbers are also in a visually hidden table for screen readers.

const MAX_BARS = 12;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? 0;
  return sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
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

  return (
    <figure className="space-y-2">
      <figcaption id={captionId} className="text-sm text-slate-700">
        Time from request to ready for your last {timed.length} ready {timed.length === 1 ? "store" : "stores"}
        {mid !== null && <> · median {formatDuration(mid)}</>}
      </figcaption>
      {/* Bars in HTML rather than SVG, so the text keeps its size at every width. */}
      <div role="img" aria-labelledby={captionId} className="max-w-xl space-y-1.5">
        {timed.map((store) => (
          <div
            key={store.id}
            className="grid grid-cols-[minmax(0,7rem)_1fr] items-center gap-2 text-xs sm:grid-cols-[minmax(0,10rem)_1fr]"
            title={`${store.name}: ${formatDuration(store.provisioning_seconds)}`}
          >
            <span className="truncate text-right text-slate-700">{store.name}</span>
            <span className="flex min-w-0 items-center gap-2">
              <span
                className="h-5 shrink-0 rounded bg-indigo-600"
                style={{ width: `${Math.max(2, Math.round((store.provisioning_seconds / longest) * 65))}%` }}
              />
              <span className="whitespace-nowrap text-slate-900">{formatDuration(store.provisioning_seconds)}</span>
            </span>
          </div>
        ))}
      </div>
      {/* The numbers for screen readers. A table ignores width: 1px, so the wrapper is what gets hidden. */}
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
