import type { StoreEvent } from "../api/types";
import { formatDuration, formatExact } from "../lib/time";

/** Seconds from the first timed step to this one, for "+2 min 5 s". */
function offsets(events: StoreEvent[]): (number | null)[] {
  const first = events.find((e) => e.created_at !== null)?.created_at;
  const start = first == null ? NaN : Date.parse(first);
  return events.map((e) => {
    if (e.created_at === null || Number.isNaN(start)) return null;
    const at = Date.parse(e.created_at);
    return Number.isNaN(at) ? null : (at - start) / 1000;
  });
}

/**
 * Consecutive entries with the same kind and message (a step reported again
 * while the store waits) read as one line with a count, at the last time.
 */
function collapse(events: StoreEvent[]): (StoreEvent & { times: number })[] {
  const out: (StoreEvent & { times: number })[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (last !== undefined && last.kind === event.kind && last.message === event.message) {
      out[out.length - 1] = { ...event, id: last.id, times: last.times + 1 };
    } else {
      out.push({ ...event, times: 1 });
    }
  }
  return out;
}

export function ActivityLog({ events: all }: { events: StoreEvent[] }) {
  const events = collapse(all);
  if (events.length === 0) {
    return <p className="text-sm text-slate-600">No activity recorded yet. Steps appear here as the functions handle them.</p>;
  }
  const since = offsets(events);
  return (
    <ol aria-label="Activity log" className="space-y-2 border-l-2 border-slate-200 pl-4">
      {events.map((event, i) => (
        <li key={event.id} className="text-sm" data-kind={event.kind}>
          <p className="text-slate-900">
            <span className="font-mono text-xs text-slate-600">{event.kind}</span>{" "}
            {event.message !== event.kind && event.message}
            {event.times > 1 && <span className="text-slate-600"> (×{event.times})</span>}
          </p>
          {event.created_at !== null && (
            <p className="text-xs text-slate-600">
              <time dateTime={event.created_at}>{formatExact(event.created_at)}</time>
              {i > 0 && since[i] != null && <> · +{formatDuration(since[i] ?? 0)} after the first step</>}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
